//go:build !unix

package lab

import (
	"os"
	"syscall"
)

// HAProxy does not run on these platforms; this file only keeps the package
// (and the CLI importing it) compiling there.

func sysProcAttr() *syscall.SysProcAttr { return nil }

func terminateGroup(pid int) error { return killGroup(pid) }

func killGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
