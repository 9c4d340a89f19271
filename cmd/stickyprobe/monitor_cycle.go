package main

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

// prober runs the monitor's cycles from one spec: today the one `run`'s
// flags build. It is the seam for scenarios (issue 3): a scenario's probe
// part is a spec too, so a scenario-driven monitor builds the spec (and the
// scenario label) from the file and hands it here; multi-phase scenarios
// would replace play with their own phase runner, still feeding every event
// to the cycle's summary and metrics.
type prober struct {
	spec     scenarios.Spec
	lifetime time.Duration // 0: fresh sessions every cycle
	cycles   int
	gen      *generation // long-lived sessions; nil when fresh
}

// generation is a set of long-lived sessions (--session-lifetime) and
// where each measured session was last seen, carried into the next cycle
// so a switch between two cycles counts.
type generation struct {
	runner   *probe.Runner
	sessions *probe.Sessions
	born     time.Time
	number   int
	last     []lastSeen // by session id
}

type lastSeen struct{ frontend, backend string }

// cycleResult is what one cycle produced, for the log and the loop.
type cycleResult struct {
	number       int
	rep          *report.Report
	interrupted  bool   // cut short by shutdown: counted, not judged
	unreachable  bool   // stopped after the first requests all failed
	generation   int    // session generation (0 when fresh sessions)
	renewed      bool   // this cycle started a new generation
	learnedToken string // the token cookie this cycle learned, kept from now on
}

// summaryOptions are the thresholds and token kind a spec is judged with.
func summaryOptions(spec scenarios.Spec) report.Options {
	return report.Options{
		MinStickiness: spec.MinStickiness,
		MaxErrorRate:  spec.MaxErrorRate,
		ExpectSpread:  spec.Token.Kind == scenarios.TokenNone,
		CookieToken:   spec.Token.Kind == scenarios.TokenCookie || spec.Token.Kind == scenarios.TokenAuto,
		SourceToken:   spec.Token.Kind == scenarios.TokenSource,
		OnBackendLoss: report.LossPolicy(spec.OnBackendLoss),
		MinBackends:   spec.MinBackends,
		MaxImbalance:  spec.MaxImbalance,
	}
}

// play returns how this cycle sends its requests: a new runner with fresh
// sessions, or the current generation's kept sessions.
func (p *prober) play(now time.Time) (func(context.Context, chan<- probe.Event) error, *probe.Runner, bool, error) {
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

// cycle runs one probe cycle, streaming its events into a summary and into
// m, and judges it unless ctx was canceled meanwhile.
func (p *prober) cycle(ctx context.Context, m *metrics.Metrics) (cycleResult, error) {
	p.cycles++
	started := time.Now()
	play, runner, renewed, err := p.play(started)
	if err != nil {
		return cycleResult{}, err
	}
	res := cycleResult{number: p.cycles, renewed: renewed}
	opts := summaryOptions(p.spec)
	summary := report.NewSummary(opts)
	mc := m.NewCycle(opts)
	g := p.gen
	if g != nil {
		res.generation = g.number
		for id, seen := range g.last {
			if seen.backend != "" {
				summary.CarryPin(id, seen.backend)
				mc.CarryPin(id, seen.frontend, seen.backend)
			}
		}
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ch := make(chan probe.Event, 256)
	done := make(chan error, 1)
	go func() { done <- play(runCtx, ch) }()
	var ok, failedInARow int
	for ev := range ch {
		summary.Add(&ev)
		mc.Add(&ev)
		if g != nil && !ev.Control && ev.Backend != "" && ev.Session < len(g.last) {
			g.last[ev.Session] = lastSeen{frontend: ev.Frontend, backend: ev.Backend}
		}
		switch {
		case ev.Error == "" || ev.Error == probe.ErrHTTP5xx:
			ok++
		case ok == 0:
			// As in run: hammering a dead address teaches nothing. The
			// cycle is judged (verdict error) and the next one tries again.
			if failedInARow++; failedInARow == unreachableAfter {
				res.unreachable = true
				cancel(errUnreachable)
			}
		}
	}
	runErr := <-done

	res.rep = summary.Close(report.Run{
		Targets:     targets(p.spec, redact.New()),
		Identify:    p.spec.Identify.String(),
		Token:       p.spec.Token.String(),
		Conn:        string(p.spec.Conn),
		Seed:        runner.Seed(),
		Started:     started.UTC(),
		DurationS:   time.Since(started).Round(time.Millisecond).Seconds(),
		Interrupted: ctx.Err() != nil,
		Truncated:   errors.Is(runErr, probe.ErrMaxDuration),
		Cut:         runner.Cut(),
	})
	res.interrupted = ctx.Err() != nil
	if !res.interrupted {
		mc.Close(res.rep, time.Now())
	}
	// With --token auto each new runner learns the token from the first
	// Set-Cookie it sees. Once the LB's cookie is known it stays the token:
	// if the LB stops setting it, that is the no-token finding, not a
	// reason to adopt the application's session cookie as the token (and
	// log its values).
	if name := res.rep.Run.TokenName; p.spec.Token.Kind == scenarios.TokenAuto && name != "" && !res.interrupted {
		p.spec.Token = scenarios.Token{Kind: scenarios.TokenCookie, Name: name}
		res.learnedToken = name
	}
	return res, nil
}
