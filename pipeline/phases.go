package pipeline

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

// This file runs a scenario's phases in order: requests phases through
// the probe, exec, wait and pause phases here, telling the probe after
// each exec and pause so the next request of every session carries the
// action's name.

// execOutputLimit bounds the output of an exec phase kept for the report:
// the end of it, where errors are.
const execOutputLimit = 4 << 10

// ErrPause marks a pause phase that could not wait for Enter (stdin
// closed): the run stops there, and it is the caller's usage error.
var ErrPause = errors.New("pause")

type actionResult struct {
	name   string
	action report.Action
}

// scenarioRun runs one spec's plan. actions is written by the run goroutine
// and read once it has returned.
type scenarioRun struct {
	spec    scenarios.Spec
	plan    []scenarios.Phase
	runner  *probe.Runner
	stderr  io.Writer
	stdin   *bufio.Reader
	verbose bool
	clock   Clock
	exec    Exec
	actions []actionResult
}

func newScenarioRun(spec scenarios.Spec, runner *probe.Runner, o *Options) (*scenarioRun, error) {
	sr := &scenarioRun{spec: spec, plan: spec.Plan(), runner: runner, stderr: o.Stderr, verbose: o.Verbose, clock: o.Clock, exec: o.Exec}
	for _, p := range sr.plan {
		if p.Kind != scenarios.PhasePause {
			continue
		}
		if !o.Interactive || o.Stdin == nil {
			return nil, fmt.Errorf("phase %s pauses until Enter is pressed, but stdin is not a terminal: run it from a terminal, "+
				"make it an exec phase that does the restart, or split the run in two with --save-state and --resume", p.Name)
		}
		sr.stdin = bufio.NewReader(o.Stdin)
	}
	return sr, nil
}

// reportPlan is the plan in the report's words.
func (sr *scenarioRun) reportPlan() []report.PhasePlan {
	if sr.spec.Phases == nil {
		return nil // a plain run: no phases section
	}
	out := make([]report.PhasePlan, len(sr.plan))
	for i, p := range sr.plan {
		out[i] = report.PhasePlan{Name: p.Name, Kind: string(p.Kind)}
	}
	return out
}

// run goes through the plan, emitting the requests phases' events on ch,
// which it closes. It stops at the first phase that cannot go on: a
// canceled ctx, the run's cap on requests, a pause without input.
func (sr *scenarioRun) run(ctx context.Context, ch chan<- probe.Event) error {
	defer close(ch)
	defer sr.runner.Close()
	for _, p := range sr.plan {
		if err := ctx.Err(); err != nil {
			return err
		}
		var a report.Action
		var err error
		switch p.Kind {
		case scenarios.PhaseRequests:
			if err := sr.runner.RunPhase(ctx, p, ch); err != nil {
				return err
			}
			continue
		case scenarios.PhaseExec:
			a = sr.execPhase(ctx, p)
		case scenarios.PhaseWait:
			a, err = sr.wait(ctx, p)
		case scenarios.PhasePause:
			a, err = sr.pause(ctx, p)
		}
		sr.actions = append(sr.actions, actionResult{p.Name, a})
		if p.Action() {
			sr.runner.MarkAction(p.Name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// record gives the summary every action's result; call it once run has
// returned.
func (sr *scenarioRun) record(summary *report.Summary) {
	for _, a := range sr.actions {
		summary.Action(a.name, a.action)
	}
}

func (sr *scenarioRun) say(format string, a ...any) {
	fmt.Fprintf(sr.stderr, "phase "+format+"\n", a...)
}

// execPhase runs the phase's command (ShellExec: `sh -c` in its own
// process group), bounded by its timeout. Its output is kept (the end of
// it) for the report, and shown with -v or on failure.
func (sr *scenarioRun) execPhase(ctx context.Context, p scenarios.Phase) report.Action {
	a := report.Action{Command: p.Command, ExitCode: -1, AllowFailure: p.AllowFailure}
	sr.say("%s: running `%s` (timeout %s)", p.Name, oneLine(p.Command), p.Timeout)
	cmdCtx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	env := []string{"STICKYPROBE_PHASE=" + p.Name, "STICKYPROBE_TARGETS=" + strings.Join(RawTargets(sr.spec), " ")}
	out := &tailBuffer{max: execOutputLimit}
	start := sr.clock.Now()
	code, err := sr.exec(cmdCtx, p, env, out)
	a.DurationS = sr.clock.Now().Sub(start).Round(time.Millisecond).Seconds()
	a.Output, a.OutputBytes, a.ExitCode = out.String(), out.total, code
	switch {
	case ctx.Err() != nil:
		a.Failed, a.Error = true, "interrupted"
	case errors.Is(cmdCtx.Err(), context.DeadlineExceeded):
		a.Failed, a.Error = true, fmt.Sprintf("timed out after %s", p.Timeout)
	case err != nil:
		a.Failed, a.Error = true, err.Error()
	}
	if a.Failed {
		note := ""
		if p.AllowFailure {
			note = " (allow_failure: the run goes on and is not failed for it)"
		}
		sr.say("%s: FAILED: %s%s", p.Name, a.Error, note)
	} else {
		sr.say("%s: ok in %.1fs", p.Name, a.DurationS)
	}
	if (a.Failed || sr.verbose) && a.Output != "" {
		for _, line := range strings.Split(strings.TrimRight(a.Output, "\n"), "\n") {
			fmt.Fprintf(sr.stderr, "  | %s\n", line)
		}
	}
	return a
}

func (sr *scenarioRun) wait(ctx context.Context, p scenarios.Phase) (report.Action, error) {
	sr.say("%s: waiting %s", p.Name, p.Wait)
	start := sr.clock.Now()
	if !sleep(ctx, sr.clock, p.Wait) {
		return report.Action{DurationS: sr.clock.Now().Sub(start).Seconds(), Failed: true, Error: "interrupted"}, ctx.Err()
	}
	return report.Action{DurationS: sr.clock.Now().Sub(start).Round(time.Millisecond).Seconds()}, nil
}

// pause waits for a line on stdin. The read cannot be canceled, so it runs
// in a goroutine that outlives a Ctrl-C; the process ends soon after.
func (sr *scenarioRun) pause(ctx context.Context, p scenarios.Phase) (report.Action, error) {
	prompt := p.Prompt
	if prompt == "" {
		prompt = "Paused."
	}
	fmt.Fprintf(sr.stderr, "\nphase %s: %s\nPress Enter to continue (Ctrl-C stops the run and writes the report). ", p.Name, prompt)
	start := sr.clock.Now()
	line := make(chan error, 1)
	go func() {
		_, err := sr.stdin.ReadString('\n')
		line <- err
	}()
	select {
	case err := <-line:
		a := report.Action{DurationS: sr.clock.Now().Sub(start).Round(time.Millisecond).Seconds()}
		if err != nil {
			a.Failed, a.Error = true, "stdin closed before Enter was pressed"
			return a, fmt.Errorf("%w: phase %s: %s", ErrPause, p.Name, a.Error)
		}
		return a, nil
	case <-ctx.Done():
		return report.Action{DurationS: sr.clock.Now().Sub(start).Seconds(), Failed: true, Error: "interrupted"}, ctx.Err()
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// tailBuffer keeps the last max bytes written to it and counts them all.
type tailBuffer struct {
	mu    sync.Mutex
	buf   []byte
	max   int
	total int64
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total += int64(len(p))
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.ToValidUTF8(string(b.buf), "\uFFFD")
}

// SyncWriter makes w safe to share between a run's goroutines (phases,
// the event loop) and the caller's own (an Observer's warnings, say):
// given as Options.Stderr, it is used as it is, so every writer takes the
// same lock.
func SyncWriter(w io.Writer) io.Writer {
	if lw, ok := w.(*lockedWriter); ok {
		return lw
	}
	return &lockedWriter{w: w}
}

// lockedWriter lets the phases and the event loop share stderr.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// RawTargets are the frontends as given, for the user's own exec commands,
// which may need a URL's credentials to reach the target, and the state
// file, which must reach them again.
func RawTargets(spec scenarios.Spec) []string {
	t := make([]string, len(spec.URLs))
	for i, u := range spec.URLs {
		t[i] = u.String()
	}
	return t
}
