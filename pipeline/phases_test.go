package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

// fakeClock moves only when a wait asks it to: After advances it by d and
// fires at once, so a ten-minute wait phase takes no time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.advance(d)
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func specOf(t *testing.T, yaml string) scenarios.Spec {
	t.Helper()
	f, err := scenarios.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse("http://127.0.0.1:1/")
	if err != nil {
		t.Fatal(err)
	}
	f.Spec.URLs = []*url.URL{u}
	return f.Spec
}

// runPhases runs the action phases of spec's plan with clock and exec (its
// requests phases are left out: no request is sent), and returns the
// actions the summary is given.
func runPhases(t *testing.T, spec scenarios.Spec, o *Options) (map[string]report.Action, error) {
	t.Helper()
	runner, err := probe.NewRunner(spec)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := newScenarioRun(spec, runner, o)
	if err != nil {
		t.Fatal(err)
	}
	sr.plan = slices.DeleteFunc(sr.plan, func(p scenarios.Phase) bool { return p.Kind == scenarios.PhaseRequests })
	ch := make(chan probe.Event)
	done := make(chan error, 1)
	go func() { done <- sr.run(context.Background(), ch) }()
	for range ch {
		t.Error("an event from a plan without requests phases")
	}
	err = <-done
	got := map[string]report.Action{}
	for _, a := range sr.actions {
		got[a.name] = a.action
	}
	return got, err
}

// Exec and wait phases run through the clock and exec runner they are
// given: a ten-minute wait and a failing deploy take no time and no shell.
func TestPhasesWithoutSleeping(t *testing.T) {
	spec := specOf(t, "phases:\n  - {name: before}\n  - {name: deploy, exec: ./deploy.sh, timeout: 30s}\n  - {name: settle, wait: 10m}\n  - {name: check, exec: ./check.sh}\n")
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var ran []string
	var env []string
	exec := func(ctx context.Context, p scenarios.Phase, e []string, out io.Writer) (int, error) {
		ran = append(ran, p.Command)
		if p.Name == "deploy" {
			env = e
			clock.advance(1500 * time.Millisecond)
			fmt.Fprintln(out, "deploying")
			return 3, fmt.Errorf("exit status 3")
		}
		return 0, nil
	}
	var stderr bytes.Buffer
	start := time.Now()
	got, err := runPhases(t, spec, &Options{Stderr: &stderr, Clock: clock, Exec: exec})
	if err != nil {
		t.Fatal(err)
	}
	if real := time.Since(start); real > 2*time.Second {
		t.Errorf("took %v of real time", real)
	}
	if !slices.Equal(ran, []string{"./deploy.sh", "./check.sh"}) {
		t.Errorf("ran %v", ran)
	}
	if !slices.Contains(env, "STICKYPROBE_PHASE=deploy") || !slices.Contains(env, "STICKYPROBE_TARGETS=http://127.0.0.1:1/") {
		t.Errorf("env %v: want the phase and the targets", env)
	}
	if d := got["deploy"]; !d.Failed || d.ExitCode != 3 || d.Error != "exit status 3" || d.Output != "deploying\n" || d.DurationS != 1.5 {
		t.Errorf("deploy: %+v", d)
	}
	if w := got["settle"]; w.Failed || w.DurationS != 600 {
		t.Errorf("settle: %+v, want 600 s on the clock", w)
	}
	if c := got["check"]; c.Failed || c.ExitCode != 0 {
		t.Errorf("check: %+v", c)
	}
	if !strings.Contains(stderr.String(), "phase deploy: FAILED: exit status 3\n  | deploying\n") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

// An exec phase that outlasts its timeout is stopped and says so.
func TestExecPhaseTimeout(t *testing.T) {
	spec := specOf(t, "phases:\n  - {name: before}\n  - {name: hang, exec: sleep 600, timeout: 10ms}\n")
	exec := func(ctx context.Context, _ scenarios.Phase, _ []string, _ io.Writer) (int, error) {
		<-ctx.Done()
		return -1, ctx.Err()
	}
	got, err := runPhases(t, spec, &Options{Stderr: io.Discard, Clock: &fakeClock{}, Exec: exec})
	if err != nil {
		t.Fatal(err)
	}
	if a := got["hang"]; !a.Failed || a.Error != "timed out after 10ms" || a.ExitCode != -1 {
		t.Errorf("hang: %+v", a)
	}
}

// A pause waits for Enter; a closed stdin stops the run with ErrPause.
func TestPausePhase(t *testing.T) {
	spec := specOf(t, "phases:\n  - {name: before}\n  - {name: manual, pause: restart it now}\n")
	var stderr bytes.Buffer
	got, err := runPhases(t, spec, &Options{Stderr: &stderr, Clock: &fakeClock{}, Stdin: strings.NewReader("\n"), Interactive: true})
	if err != nil || got["manual"].Failed || !strings.Contains(stderr.String(), "restart it now\nPress Enter") {
		t.Errorf("Enter: %v, %+v, %q", err, got["manual"], stderr.String())
	}
	got, err = runPhases(t, spec, &Options{Stderr: io.Discard, Clock: &fakeClock{}, Stdin: strings.NewReader(""), Interactive: true})
	if !errorsIs(err, ErrPause) || !got["manual"].Failed {
		t.Errorf("closed stdin: %v, %+v; want ErrPause", err, got["manual"])
	}
	runner, _ := probe.NewRunner(spec)
	if _, err := newScenarioRun(spec, runner, &Options{Stdin: strings.NewReader("\n")}); err == nil || !strings.Contains(err.Error(), "stdin is not a terminal") {
		t.Errorf("pause without a terminal: %v", err)
	}
}

// Kept sessions are renewed once they are as old as the lifetime, by the
// prober's clock.
func TestProberGenerations(t *testing.T) {
	spec := specOf(t, "sessions: 3\nrequests: 2\n")
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	p := NewProber(spec, time.Hour, clock)
	steps := []struct {
		after   time.Duration
		renewed bool
		number  int
	}{{0, true, 1}, {30 * time.Minute, false, 1}, {29 * time.Minute, false, 1}, {time.Minute, true, 2}, {time.Minute, false, 2}}
	for i, s := range steps {
		clock.advance(s.after)
		_, _, renewed, err := p.play(clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if renewed != s.renewed || p.gen.number != s.number {
			t.Errorf("step %d (+%v): renewed %v generation %d, want %v %d", i, s.after, renewed, p.gen.number, s.renewed, s.number)
		}
	}
	fresh := NewProber(spec, 0, clock)
	if _, _, renewed, _ := fresh.play(clock.Now()); renewed || fresh.gen != nil {
		t.Error("a prober without a lifetime kept sessions")
	}
}

// The schedule starts a cycle every Every (jittered within its bounds, the
// same for the same seed), starts the next at once after an overrun, and
// stops after Cycles or when a cycle was interrupted: on a fake clock.
func TestSchedule(t *testing.T) {
	run := func(s Schedule, took []time.Duration, interruptAt int) ([]time.Time, []Cycle, error) {
		clock := &fakeClock{now: time.Unix(1e9, 0)}
		s.Clock = clock
		var starts []time.Time
		var turns []Cycle
		err := s.Run(context.Background(), func(context.Context) (CycleResult, error) {
			i := len(starts)
			starts = append(starts, clock.Now())
			clock.advance(took[i%len(took)])
			return CycleResult{Number: i + 1, Interrupted: i+1 == interruptAt}, nil
		}, func(c Cycle) { turns = append(turns, c) })
		return starts, turns, err
	}
	starts, turns, err := run(Schedule{Every: time.Minute, Cycles: 3}, []time.Duration{10 * time.Second}, 0)
	if err != ErrCyclesDone || len(starts) != 3 || starts[1].Sub(starts[0]) != time.Minute || starts[2].Sub(starts[1]) != time.Minute {
		t.Errorf("no jitter: %v, starts %v", err, starts)
	}
	if turns[0].NextIn != 50*time.Second || turns[0].Overran {
		t.Errorf("first turn %+v: want the next in 50s", turns[0])
	}
	starts, turns, _ = run(Schedule{Every: time.Minute, Cycles: 3}, []time.Duration{90 * time.Second, time.Second}, 0)
	if starts[1].Sub(starts[0]) != 90*time.Second || !turns[0].Overran || turns[0].NextIn != 0 || turns[2].Overran {
		t.Errorf("overrun: starts %v, turns %+v: want the next cycle at once", starts, turns)
	}
	a, _, _ := run(Schedule{Every: time.Minute, Jitter: 0.5, Cycles: 20, Seed: 7}, []time.Duration{time.Second}, 0)
	b, _, _ := run(Schedule{Every: time.Minute, Jitter: 0.5, Cycles: 20, Seed: 7}, []time.Duration{time.Second}, 0)
	distinct := map[time.Duration]bool{}
	for i := 1; i < len(a); i++ {
		gap := a[i].Sub(a[i-1])
		if gap < 30*time.Second || gap > 90*time.Second || gap != b[i].Sub(b[i-1]) {
			t.Fatalf("jitter: gap %d is %v (other run %v): want 30s..90s, the same for one seed", i, gap, b[i].Sub(b[i-1]))
		}
		distinct[gap] = true
	}
	if len(distinct) < 10 {
		t.Errorf("jitter: %d distinct gaps in 19", len(distinct))
	}
	starts, _, err = run(Schedule{Every: time.Minute}, []time.Duration{time.Second}, 4)
	if err != nil || len(starts) != 4 {
		t.Errorf("interrupted cycle 4: %v after %d cycles; want nil after 4", err, len(starts))
	}
}
