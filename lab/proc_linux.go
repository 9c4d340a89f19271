//go:build linux

package lab

import "syscall"

// sysProcAttr puts the child in its own process group, so signals reach
// anything it spawns, and asks the kernel to SIGKILL it if we die first
// (e.g. a test binary killed on timeout never runs its cleanups).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// terminateGroup asks the whole process group led by pid to exit.
func terminateGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGTERM) }

// killGroup force-kills the whole process group led by pid.
func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }
