//go:build !unix

package pipeline

import "os/exec"

// ownProcessGroup is a no-op where there are no process groups: a timeout
// kills the shell only.
func ownProcessGroup(*exec.Cmd) {}
