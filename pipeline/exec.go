package pipeline

import (
	"context"
	"io"
	"os/exec"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// ShellExec runs the phase's command with `sh -c`, in its own process
// group so that a timeout or a stop kills whatever it started, with env
// added to this process's environment.
func ShellExec(ctx context.Context, p scenarios.Phase, env []string, out io.Writer) (int, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", p.Command)
	cmd.Env = append(cmd.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 2 * time.Second // a child that keeps the pipes open must not hold the run
	ownProcessGroup(cmd)
	err := cmd.Run()
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	return code, err
}
