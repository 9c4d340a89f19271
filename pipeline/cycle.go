package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/stickyprobe/stickyprobe/metrics"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/redact"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

// Prober runs a monitor's cycles from one spec: each cycle is a run of
// the spec's requests phases, judged on its own, its events streamed into
// a summary and into the metrics. With a lifetime, the same sessions
// (cookie jars, pins) are kept across cycles until they are that old, so
// a switch between two cycles counts.
type Prober struct {
	spec     scenarios.Spec
	lifetime time.Duration // 0: fresh sessions every cycle
	clock    Clock
	cycles   int
	gen      *generation // long-lived sessions; nil when fresh
}

// NewProber returns the prober of spec; lifetime 0 gives every cycle
// fresh sessions; a nil clock is the real one.
func NewProber(spec scenarios.Spec, lifetime time.Duration, clock Clock) *Prober {
	if clock == nil {
		clock = RealClock{}
	}
	return &Prober{spec: spec, lifetime: lifetime, clock: clock}
}

// Cycles is the number of cycles run so far.
func (p *Prober) Cycles() int { return p.cycles }

// Check fails if the spec cannot run at all (bad source addresses, a
// runner that cannot be built): before a monitor binds anything.
func (p *Prober) Check() error {
	r, err := probe.NewRunner(p.spec)
	if err != nil {
		return err
	}
	return r.CheckSources()
}

// generation is a set of long-lived sessions and where each measured
// session was last seen, carried into the next cycle.
type generation struct {
	runner   *probe.Runner
	sessions *probe.Sessions
	born     time.Time
	number   int
	last     []lastSeen // by session id
}

type lastSeen struct{ frontend, backend string }

// CycleResult is what one cycle produced, for the log and the loop.
type CycleResult struct {
	Number       int
	Report       *report.Report
	Interrupted  bool   // cut short by shutdown: counted, not judged
	Unreachable  bool   // stopped after the first requests all failed
	Generation   int    // session generation (0 when fresh sessions)
	Renewed      bool   // this cycle started a new generation
	LearnedToken string // the token cookie this cycle learned, kept from now on
}

// play returns how this cycle sends its requests: a new runner with fresh
// sessions, or the current generation's kept sessions.
func (p *Prober) play(now time.Time) (func(context.Context, chan<- probe.Event) error, *probe.Runner, bool, error) {
	spec := p.spec
	if p.lifetime <= 0 {
		if spec.Seed != 0 {
			// A given seed makes the sequence of cycles repeatable
			// without repeating one order every cycle.
			spec.Seed += int64(p.cycles)
		}
		r, err := probe.NewRunner(spec)
		if err != nil {
			return nil, nil, false, err
		}
		return r.Run, r, false, nil
	}
	renewed := false
	if p.gen == nil || now.Sub(p.gen.born) >= p.lifetime {
		r, err := probe.NewRunner(spec)
		if err != nil {
			return nil, nil, false, err
		}
		number := 1
		if p.gen != nil {
			number = p.gen.number + 1
		}
		p.gen = &generation{runner: r, sessions: r.NewSessions(), born: now, number: number,
			last: make([]lastSeen, spec.Sessions)}
		renewed = true
	}
	g := p.gen
	return func(ctx context.Context, ch chan<- probe.Event) error {
		return g.runner.RunSessions(ctx, ch, g.sessions)
	}, g.runner, renewed, nil
}

// Cycle runs one probe cycle, streaming its events into a summary and into
// m, and judges it unless ctx was canceled meanwhile.
func (p *Prober) Cycle(ctx context.Context, m *metrics.Metrics) (CycleResult, error) {
	p.cycles++
	started := p.clock.Now()
	play, runner, renewed, err := p.play(started)
	if err != nil {
		return CycleResult{}, err
	}
	cr := CycleResult{Number: p.cycles, Renewed: renewed}
	opts := SummaryOptions(p.spec)
	summary := report.NewSummary(opts)
	mc := m.NewCycle(opts)
	if g := p.gen; g != nil {
		cr.Generation = g.number
		for id, seen := range g.last {
			if seen.backend != "" {
				summary.CarryPin(id, seen.backend)
				mc.CarryPin(id, seen.frontend, seen.backend)
			}
		}
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The cycle is judged (verdict error) and the next one tries again.
	stop := &stopper{cancel: cancel}
	sinks := []Sink{summarySink{s: summary}, funcSink{add: mc.Add}, p.tracker(), stop}
	runErr := fanOut(runCtx, play, sinks)
	res := &Result{Run: report.Run{
		Targets:     Targets(p.spec, redact.New()),
		Identify:    p.spec.Identify.String(),
		Token:       p.spec.Token.String(),
		Conn:        string(p.spec.Conn),
		Seed:        runner.Seed(),
		Started:     started.UTC(),
		DurationS:   p.clock.Now().Sub(started).Round(time.Millisecond).Seconds(),
		Interrupted: ctx.Err() != nil,
		Truncated:   errors.Is(runErr, probe.ErrMaxDuration),
		Cut:         runner.Cut(),
	}}
	closeAll(res, sinks) // these sinks do not fail
	cr.Report, cr.Interrupted, cr.Unreachable = res.Report, res.Run.Interrupted, res.Unreachable
	if !cr.Interrupted {
		mc.Close(cr.Report, p.clock.Now())
	}
	cr.LearnedToken = p.learn(cr)
	return cr, nil
}

// tracker keeps where each kept session was last seen, for the next
// cycle; a no-op with fresh sessions.
func (p *Prober) tracker() Sink {
	g := p.gen
	if g == nil {
		return funcSink{}
	}
	return funcSink{add: func(ev *probe.Event) {
		if !ev.Control && ev.Backend != "" && ev.Session < len(g.last) {
			g.last[ev.Session] = lastSeen{frontend: ev.Frontend, backend: ev.Backend}
		}
	}}
}

// learn keeps the token a --token auto cycle learned. Each new runner
// learns the token from the first Set-Cookie it sees; once the LB's
// cookie is known it stays the token: if the LB stops setting it, that is
// the no-token finding, not a reason to adopt the application's session
// cookie as the token (and log its values).
func (p *Prober) learn(cr CycleResult) string {
	name := cr.Report.Run.TokenName
	if p.spec.Token.Kind != scenarios.TokenAuto || name == "" || cr.Interrupted {
		return ""
	}
	p.spec.Token = scenarios.Token{Kind: scenarios.TokenCookie, Name: name}
	return name
}
