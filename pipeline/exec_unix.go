//go:build unix

package pipeline

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup runs cmd in its own process group and makes a timeout
// or Ctrl-C kill the whole group: `sh -c "systemctl restart x && sleep 5"`
// must not leave the sleep behind.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
