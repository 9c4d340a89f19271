package pipeline

import (
	"context"
	"io"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// Clock is the time a run sees: the real one, or a test's, so that the
// phase and cycle logic is tested without sleeping.
type Clock interface {
	Now() time.Time
	// After delivers the time once d has passed, as time.After does.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

func (RealClock) Now() time.Time                         { return time.Now() }
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Exec runs an exec phase's command, its output to out, and returns its
// exit code (-1 when it did not run or was killed). It must return when
// ctx ends (the phase's timeout, or the run being stopped).
type Exec func(ctx context.Context, p scenarios.Phase, env []string, out io.Writer) (exitCode int, err error)

// sleep waits d on c; false if ctx ended first.
func sleep(ctx context.Context, c Clock, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-c.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}
