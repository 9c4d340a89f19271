package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stickyprobe/stickyprobe/redact"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

// ErrMaxDuration is returned by Run when --max-duration cut the run short.
var ErrMaxDuration = errors.New("probe: run stopped at its maximum duration")

// Runner plays a spec's sessions against its frontends.
type Runner struct {
	spec      scenarios.Spec
	ident     *identifier
	pacer     Pacer
	dialer    *dialer
	client    *client
	targets   []*target // one per frontend, in the order of spec.URLs
	idle      int       // idle connections a target's pool keeps (--conn shared)
	seed      uint64
	tokenName atomic.Pointer[string] // fixed, or learned from the first Set-Cookie
	now       func() time.Time
	trace     Trace // what is recorded besides the event's fixed fields

	rng      *rand.Rand    // session order; one stream across phases, so a seed repeats a whole scenario
	sessions []*session    // created by the first phase (or Restore), kept across phases
	spent    time.Duration // time spent in requests phases, against MaxDuration
	record   bool          // keep each session's cookies, for Snapshot
}

// NewRunner checks the spec and prepares a run. seed 0 picks a random seed;
// Seed tells which one was used, so a run can be repeated.
func NewRunner(spec scenarios.Spec, opts ...Option) (*Runner, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	r := &Runner{
		spec:   spec,
		ident:  newIdentifier(spec.Identify),
		pacer:  NewPacer(spec.Rate),
		dialer: newDialer(spec),
		seed:   uint64(spec.Seed),
		now:    time.Now,
	}
	if r.seed == 0 {
		// 1..2^63-1: --seed is an int64, and the report's rerun command
		// must be able to give this seed back.
		r.seed = rand.Uint64N(math.MaxInt64) + 1
	}
	for _, o := range opts {
		o(r)
	}
	if r.trace.Redactor == nil {
		r.trace.Redactor = redact.New()
	}
	r.rng = r.stream("order")
	r.client = newClient(spec, r.dialer)
	if spec.Conn == scenarios.ConnShared {
		r.idle = spec.Concurrency
	}
	for _, u := range spec.URLs {
		r.targets = append(r.targets, r.newTarget(u, nil))
	}
	if spec.Token.Kind == scenarios.TokenCookie {
		name := spec.Token.Name
		r.tokenName.Store(&name)
	}
	return r, nil
}

// Seed is the seed of the run's random choices.
func (r *Runner) Seed() uint64 { return r.seed }

// TokenName is the affinity cookie's name: given, learned, or "".
func (r *Runner) TokenName() string {
	if p := r.tokenName.Load(); p != nil {
		return *p
	}
	return ""
}

// tracksCookie reports whether the token is a cookie (given or learned).
func (r *Runner) tracksCookie() bool {
	k := r.spec.Token.Kind
	return k == scenarios.TokenCookie || k == scenarios.TokenAuto
}

// Total is the number of requests a complete run sends in its counted
// requests phases (a timed phase sends what its duration allows).
func (r *Runner) Total() int {
	n := 0
	for _, p := range r.spec.Plan() {
		if p.Kind == scenarios.PhaseRequests {
			n += p.Requests
		}
	}
	return (r.spec.Sessions + r.spec.Control()) * n
}

// Run plays the requests phases of the spec's plan in order and emits one
// Event per request on out, which it closes when done. Exec, wait and
// pause phases are skipped: a caller that runs them calls RunPhase
// between them instead. Requests cut short by ctx are not emitted: they
// say nothing about the target. Run returns ctx's error if ctx was
// canceled, ErrMaxDuration if the spec's cap stopped it, else nil.
func (r *Runner) Run(ctx context.Context, out chan<- Event) error {
	defer close(out)
	defer r.Close()
	for _, p := range r.spec.Plan() {
		if p.Kind != scenarios.PhaseRequests {
			continue
		}
		if err := r.RunPhase(ctx, p, out); err != nil {
			return err
		}
	}
	return nil
}

// RunPhase sends one requests phase and emits its events on out, which it
// leaves open. Sessions keep their jars, tokens and request numbers from
// one phase to the next. The spec's MaxDuration bounds the time spent in
// all phases together. Errors are Run's.
func (r *Runner) RunPhase(ctx context.Context, p scenarios.Phase, out chan<- Event) error {
	if p.Kind != scenarios.PhaseRequests {
		return fmt.Errorf("probe: phase %q is a %s phase, not requests", p.Name, p.Kind)
	}
	budget := r.spec.MaxDuration - r.spent
	if budget <= 0 {
		return ErrMaxDuration
	}
	started := r.now()
	defer func() { r.spent += r.now().Sub(started) }()
	runCtx, cancel := context.WithTimeoutCause(ctx, budget, ErrMaxDuration)
	defer cancel()

	ph := r.newPhase(p, started)
	sessions := r.ensureSessions()
	work := make(chan *session)
	var round sync.WaitGroup
	var workers sync.WaitGroup
	ws := make([]*worker, min(r.spec.Concurrency, len(sessions)))
	for i := range ws {
		ws[i] = newWorker()
	}
	// Stopping the run cuts every request in flight short.
	stopWorkers := context.AfterFunc(runCtx, func() {
		for _, w := range ws {
			w.stop()
		}
	})
	defer stopWorkers()
	for _, w := range ws {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for s := range work {
				if ev, ok := r.visit(runCtx, w, ph, s); ok {
					out <- ev
				}
				round.Done()
			}
		}()
	}

	// Rounds: each session's n-th request of the phase is sent in round
	// n, and each round visits the sessions in a new random order. The
	// phase's round and last fields change only between rounds, while no
	// worker holds a session.
dispatch:
	for n := 0; ph.more(n, r.now()); n++ {
		r.rng.Shuffle(len(sessions), func(i, j int) { sessions[i], sessions[j] = sessions[j], sessions[i] })
		ph.round, ph.last = n, ph.count > 0 && n == ph.count-1
		for _, s := range sessions {
			round.Add(1)
			select {
			case work <- s:
			case <-runCtx.Done():
				round.Done()
				round.Wait()
				break dispatch
			}
		}
		round.Wait()
		if runCtx.Err() != nil {
			break
		}
	}
	close(work)
	workers.Wait()
	r.closeIdle()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(context.Cause(runCtx), ErrMaxDuration) {
		return ErrMaxDuration
	}
	return nil
}

// MarkAction records that an action (an exec or pause phase, or a resume)
// happened: each session's next request carries its name in AfterAction,
// so a switch right after it can be blamed on it.
func (r *Runner) MarkAction(name string) {
	for _, s := range r.ensureSessions() {
		s.after = name
	}
}

// Close releases every connection the runner holds. Run calls it; a
// caller of RunPhase calls it once done.
func (r *Runner) Close() { r.closeIdle() }

func (r *Runner) closeIdle() {
	for _, s := range r.sessions {
		s.close()
	}
	for _, t := range r.targets {
		t.pool.closeAll()
	}
}

// ensureSessions creates the sessions on first use; later phases (and a
// Restore) reuse them.
func (r *Runner) ensureSessions() []*session {
	if r.sessions == nil {
		r.sessions = r.newSessions(false)
	}
	return r.sessions
}

// newSessions creates the measured sessions (ids 0..Sessions-1) and the
// control group after them. Sessions are spread over the frontends in turn.
// kept says the sessions outlive this run (RunSessions).
func (r *Runner) newSessions(kept bool) []*session {
	n := r.spec.Sessions + r.spec.Control()
	sessions := make([]*session, n)
	shared := &jarShared{horizon: r.jarHorizon(kept)}
	for i := range sessions {
		control := i >= r.spec.Sessions
		sessions[i] = newSession(i, control, r.targets[i%len(r.targets)], shared)
	}
	return sessions
}

// jarHorizon is the time by which the sessions' jars are certainly no
// longer used, or zero when that is not known. A run made only of requests
// phases sends no request after MaxDuration (spent over all its phases),
// none lasts longer than Timeout; a minute more covers the bookkeeping of
// the last responses and the moments between phases. Exec, wait and pause
// phases, and sessions kept across runs (RunSessions) or restored, outlive
// any such bound: their jars get no horizon, so every cookie that can
// expire makes its jar a live cookiejar.Jar at once, as before the jar
// became a record.
func (r *Runner) jarHorizon(kept bool) time.Time {
	if kept {
		return time.Time{}
	}
	for _, p := range r.spec.Plan() {
		if p.Kind != scenarios.PhaseRequests {
			return time.Time{}
		}
	}
	return r.now().Add(r.spec.MaxDuration + r.spec.Timeout + time.Minute)
}

// newTarget prepares frontend (or frontend-with-path) u for the probe's
// client. base, if not nil, is the frontend's target: u shares its idle
// connections.
func (r *Runner) newTarget(u *url.URL, base *target) *target {
	t := newTarget(r.spec, u, r.dialer, r.spec.Conn == scenarios.ConnFresh, r.idle)
	t.shown = r.trace.Redactor.URL(u) // a URL's password is never recorded
	if base != nil {
		t.pool = base.pool
	}
	return t
}

// visit waits for the session's think time and the global pacer, then sends
// its next request. ok is false when the run was stopped first, or when a
// timed phase ended.
func (r *Runner) visit(ctx context.Context, w *worker, ph *phase, s *session) (ev Event, ok bool) {
	if wait := time.Until(s.notBefore); wait > 0 {
		if ph.over(time.Now().Add(wait)) {
			return Event{}, false
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Event{}, false
		}
	}
	if err := r.pacer.Wait(ctx); err != nil || ph.over(time.Now()) {
		return Event{}, false
	}
	ev = r.do(ctx, w, ph, s)
	s.seq++
	s.notBefore = r.now().Add(ph.think)
	if ph.last {
		s.close()
	}
	if ev.Error == ErrCanceled {
		return Event{}, false
	}
	s.after = "" // delivered: only the first request after an action carries it
	return ev, true
}

func (r *Runner) String() string {
	return fmt.Sprintf("%d sessions (+%d control) × %d requests, %s connections", r.spec.Sessions, r.spec.Control(), r.spec.Requests, r.spec.Conn)
}
