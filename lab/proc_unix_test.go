//go:build unix

package lab

import (
	"errors"
	"syscall"
)

// processAlive reports whether pid still exists in any state; a reaped
// process is gone (ESRCH), a zombie or orphan is not.
func processAlive(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
