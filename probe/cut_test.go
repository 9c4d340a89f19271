package probe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

// deadlineOnly is a run context whose deadline has passed but whose timer
// has not marked it done yet: the moment in which a dial already fails
// with "i/o timeout".
type deadlineOnly struct {
	context.Context
	at time.Time
}

func (d deadlineOnly) Deadline() (time.Time, bool) { return d.at, true }

func TestCutAtTheRunsDeadline(t *testing.T) {
	dialTimeout := fmt.Errorf("dial tcp 127.0.0.1:1: %w", os.ErrDeadlineExceeded)
	past := deadlineOnly{context.Background(), time.Now().Add(-time.Millisecond)}
	if past.Err() != nil {
		t.Fatal("the test context is done: it would not test the race")
	}
	if got := classifyError(past, dialTimeout); got != ErrCanceled {
		t.Errorf("a dial failing after the run's deadline = %q, want cut (%q), not the LB's timeout", got, ErrCanceled)
	}
	future := deadlineOnly{context.Background(), time.Now().Add(time.Hour)}
	if got := classifyError(future, dialTimeout); got != ErrTimeout {
		t.Errorf("a dial timing out well before the run's deadline = %q, want %q", got, ErrTimeout)
	}
}

// The requests in flight at --max-duration are cut: counted apart, never
// emitted, never a timeout.
func TestRunCountsCutRequests(t *testing.T) {
	srv := slowLB(t, 10*time.Second)
	spec := testSpec(t, srv.URL)
	spec.MaxDuration = 200 * time.Millisecond
	spec.Concurrency = 3
	events, r, err := runAll(t, spec)
	if !errors.Is(err, ErrMaxDuration) {
		t.Fatalf("Run = %v, want ErrMaxDuration", err)
	}
	if len(events) != 0 || r.Cut() != 3 {
		t.Errorf("%d events, %d cut; want none emitted and the 3 in flight cut", len(events), r.Cut())
	}
}
