package probe

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

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
	seed      uint64
	tokenName atomic.Pointer[string] // fixed, or learned from the first Set-Cookie
	now       func() time.Time
}

// NewRunner checks the spec and prepares a run. seed 0 picks a random seed;
// Seed tells which one was used, so a run can be repeated.
func NewRunner(spec scenarios.Spec) (*Runner, error) {
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
		r.seed = rand.Uint64()
	}
	r.client = newClient(spec, r.dialer)
	idle := 0
	if spec.Conn == scenarios.ConnShared {
		idle = spec.Concurrency
	}
	for _, u := range spec.URLs {
		r.targets = append(r.targets, newTarget(spec, u, r.dialer, spec.Conn == scenarios.ConnFresh, idle))
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

// Total is the number of requests a complete run sends.
func (r *Runner) Total() int {
	return (r.spec.Sessions + r.spec.Control()) * r.spec.Requests
}

// Run sends every session's requests and emits one Event per request on
// out, which it closes when done. Requests cut short by ctx are not
// emitted: they say nothing about the target. Run returns ctx's error if
// ctx was canceled, ErrMaxDuration if the spec's cap stopped it, else nil.
func (r *Runner) Run(ctx context.Context, out chan<- Event) error {
	defer close(out)
	runCtx, cancel := context.WithTimeoutCause(ctx, r.spec.MaxDuration, ErrMaxDuration)
	defer cancel()

	rng := rand.New(rand.NewPCG(r.seed, r.seed^0x5eed))
	sessions := r.newSessions()
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
				if ev, ok := r.visit(runCtx, w, s); ok {
					out <- ev
				}
				round.Done()
			}
		}()
	}

	// Rounds: each session's n-th request is sent in round n, and each
	// round visits the sessions in a new random order.
dispatch:
	for n := 0; n < r.spec.Requests; n++ {
		rng.Shuffle(len(sessions), func(i, j int) { sessions[i], sessions[j] = sessions[j], sessions[i] })
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
	for _, s := range sessions {
		s.close()
	}
	for _, t := range r.targets {
		t.pool.closeAll()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(context.Cause(runCtx), ErrMaxDuration) {
		return ErrMaxDuration
	}
	return nil
}

// newSessions creates the measured sessions (ids 0..Sessions-1) and the
// control group after them. Sessions are spread over the frontends in turn.
func (r *Runner) newSessions() []*session {
	n := r.spec.Sessions + r.spec.Control()
	sessions := make([]*session, n)
	// Run calls this once its clock started: no request starts after
	// MaxDuration, none lasts longer than Timeout; a minute more for the
	// bookkeeping of the last responses.
	shared := &jarShared{horizon: r.now().Add(r.spec.MaxDuration + r.spec.Timeout + time.Minute)}
	for i := range sessions {
		control := i >= r.spec.Sessions
		sessions[i] = newSession(i, control, r.targets[i%len(r.targets)], shared)
	}
	return sessions
}

// visit waits for the session's think time and the global pacer, then sends
// its next request. ok is false when the run was stopped first.
func (r *Runner) visit(ctx context.Context, w *worker, s *session) (ev Event, ok bool) {
	if wait := time.Until(s.notBefore); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Event{}, false
		}
	}
	if err := r.pacer.Wait(ctx); err != nil {
		return Event{}, false
	}
	ev = r.do(ctx, w, s)
	s.seq++
	s.notBefore = r.now().Add(r.spec.Think)
	if s.seq >= r.spec.Requests {
		s.close()
	}
	if ev.Error == ErrCanceled {
		return Event{}, false
	}
	return ev, true
}

func (r *Runner) String() string {
	return fmt.Sprintf("%d sessions (+%d control) × %d requests, %s connections", r.spec.Sessions, r.spec.Control(), r.spec.Requests, r.spec.Conn)
}
