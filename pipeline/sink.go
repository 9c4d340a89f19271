package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// Sink is one consumer of a run's events: the summary that judges them,
// the events file, the HAR, the metrics, the progress bar, -v. Add takes
// each event as it happens, in the order the probe emitted it; the event
// is reused after Add returns. Close is called once, after the last
// event, in the order the sinks were given; the summary's Close fills in
// res.Report, so the sinks after it see the verdict.
type Sink interface {
	Add(ev *probe.Event)
	Close(res *Result) error
}

// fanOut runs play and gives each of its events to every sink, in order.
// It returns play's error.
func fanOut(ctx context.Context, play func(context.Context, chan<- probe.Event) error, sinks []Sink) error {
	ch := make(chan probe.Event, 1024)
	done := make(chan error, 1)
	go func() { done <- play(ctx, ch) }()
	for ev := range ch {
		for _, s := range sinks {
			s.Add(&ev)
		}
	}
	return <-done
}

// closeAll closes every sink in order, even after one failed, and returns
// the first error.
func closeAll(res *Result, sinks []Sink) error {
	var first error
	for _, s := range sinks {
		if err := s.Close(res); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// summarySink judges the events: its Close derives the report, after
// before (a scenario's phases recording their actions), if set.
type summarySink struct {
	s      *report.Summary
	before func(*report.Summary)
}

func (s summarySink) Add(ev *probe.Event) { s.s.Add(ev) }

func (s summarySink) Close(res *Result) error {
	if s.before != nil {
		s.before(s.s)
	}
	res.Summary = s.s
	res.Report = s.s.Close(res.Run)
	return nil
}

// UnreachableAfter stops a run whose first requests all fail: hammering a
// dead address teaches nothing. A 5xx counts as a failure here: an LB that
// answers nothing but 503 is as unreachable as one refusing connections.
const UnreachableAfter = 20

// ErrUnreachable is the cause a run or cycle is canceled with when its
// first UnreachableAfter requests all failed.
var ErrUnreachable = errors.New("target unreachable")

// stopper cancels the run once its first requests have all failed, and
// says so on w (when not nil).
type stopper struct {
	cancel      context.CancelCauseFunc
	w           io.Writer
	ok, failed  int
	unreachable bool
}

func (s *stopper) Add(ev *probe.Event) {
	if s.ok > 0 {
		return
	}
	if ev.Error == "" {
		s.ok++
		return
	}
	if s.failed++; s.failed == UnreachableAfter {
		s.unreachable = true
		if s.w != nil {
			fmt.Fprintf(s.w, "stickyprobe: the first %d requests all failed (%s: %s); stopping\n", UnreachableAfter, ev.Error, failDetail(ev))
		}
		s.cancel(ErrUnreachable)
	}
}

func (s *stopper) Close(res *Result) error {
	res.Unreachable = s.unreachable
	return nil
}

// failDetail is what went wrong, for the stop message: a 5xx says its
// status.
func failDetail(ev *probe.Event) string {
	if ev.Detail == "" && ev.Status != 0 {
		return fmt.Sprintf("HTTP %d", ev.Status)
	}
	return ev.Detail
}

// funcSink adapts an observer of events (a caller's own consumer).
type funcSink struct {
	add   func(*probe.Event)
	close func(*Result) error
}

func (f funcSink) Add(ev *probe.Event) {
	if f.add != nil {
		f.add(ev)
	}
}

func (f funcSink) Close(res *Result) error {
	if f.close != nil {
		return f.close(res)
	}
	return nil
}
