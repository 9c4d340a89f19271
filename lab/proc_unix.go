//go:build unix && !linux

package lab

import "syscall"

// sysProcAttr puts the child in its own process group so signals reach
// anything it spawns. (Pdeathsig is Linux-only.)
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// terminateGroup asks the whole process group led by pid to exit.
func terminateGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGTERM) }

// killGroup force-kills the whole process group led by pid.
func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }
