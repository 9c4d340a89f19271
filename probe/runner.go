package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strconv"
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
	targets   []*target      // one per frontend, in the order of spec.Nodes()
	sources   []*net.TCPAddr // --source-ips; nil binds nothing
	frontKey  uint64         // the stream of --frontends random
	gate      chan struct{}  // --burst: one token per request in flight, so a burst stays within --concurrency; nil without bursts
	gateMu    sync.Mutex     // a burst takes its tokens under it, so two bursts never hold half of theirs each
	idle      int            // idle connections a target's pool keeps (--conn shared)
	seed      uint64
	tokenName atomic.Pointer[string] // fixed, or learned from the first Set-Cookie
	firstLook atomic.Pointer[FirstLook]
	now       func() time.Time
	trace     Trace   // what is recorded besides the event's fixed fields
	browser   Browser // the client's jar mode and redirects, from the run's context

	rng      *rand.Rand    // session order; one stream across phases, so a seed repeats a whole scenario
	sessions []*session    // created by the first phase (or Restore), kept across phases
	spent    time.Duration // time spent in requests phases, against MaxDuration
	record   bool          // keep each session's cookies, for Snapshot
	cut      atomic.Int64  // requests the probe cut itself (Cut)
	mark     string        // WithMark's run; "" marks nothing
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
	r.frontKey = purposeKey("frontend")
	r.sources = newSources(spec.SourceIPs)
	r.client = newClient(spec, r.dialer, r.sources)
	r.client.mark = r.mark
	if spec.Conn == scenarios.ConnShared {
		r.idle = spec.Concurrency
	}
	for _, n := range spec.Nodes() {
		r.targets = append(r.targets, r.newNode(n))
	}
	if spec.Burst > 1 {
		r.gate = make(chan struct{}, spec.Concurrency)
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
// between them instead. Requests cut short by ctx (or the spec's
// MaxDuration) are not emitted, they say nothing about the target: Cut
// counts them. Run returns ctx's error if ctx was
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
	r.browser = BrowserFrom(ctx)
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
	for _, s := range sessions {
		s.done = 0
	}
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
				r.visit(runCtx, w, ph, s, out)
				round.Done()
			}
		}()
	}

	// Rounds: each round sends every session that has requests left in
	// the phase its next one (or its first burst), in a new random order.
dispatch:
	for n := 0; ph.more(n, r.now()); n++ {
		r.rng.Shuffle(len(sessions), func(i, j int) { sessions[i], sessions[j] = sessions[j], sessions[i] })
		rotateControl(sessions, n)
		if !r.thinkRound(runCtx, ph, sessions) {
			break
		}
		sent := 0
		for _, s := range sessions {
			if ph.left(s) <= 0 {
				continue
			}
			sent++
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
		if runCtx.Err() != nil || sent == 0 {
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
		front := i % len(r.targets)
		sessions[i] = newSession(i, control, front, shared)
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

// newNode prepares one frontend: a URL, and the address to reach it at
// when --resolve gives its host several (one LB node each). Such a node is
// shown as "URL via ADDR", so reports tell the nodes apart.
func (r *Runner) newNode(n scenarios.Node) *target {
	t := r.newTarget(n.URL, nil)
	if n.Addr.IsValid() {
		t.addr = net.JoinHostPort(n.Addr.String(), strconv.Itoa(n.Port))
		t.via = " via " + n.Addr.String()
		t.shown += t.via
	}
	return t
}

// newTarget prepares frontend (or frontend-with-path) u for the probe's
// client. base, if not nil, is the frontend's target: u is reached the
// same way and shares its idle connections.
func (r *Runner) newTarget(u *url.URL, base *target) *target {
	t := newTarget(r.spec, u, r.dialer, r.spec.Conn == scenarios.ConnFresh, r.idle)
	t.shown = r.trace.Redactor.URL(u) // a URL's password is never recorded
	if base != nil {
		t.pool, t.addr, t.via = base.pool, base.addr, base.via
		t.shown += t.via
	}
	return t
}

// rotateControl puts the control sessions, in the places the shuffle gave
// them, in the order of their ids rotated by round. A round-robin LB that
// balances only unpinned requests hands the control requests of a round
// the next backends in turn; with a random order each round, a control
// session keeps its backend whenever the order repeats (one round in six
// with three of them), and with few requests the whole group can stay put
// by chance: an inconclusive verdict on a sticky LB. Rotating changes every
// control session's place each round, so behind such an LB each switches.
func rotateControl(sessions []*session, round int) {
	var places []int
	var control []*session
	for i, s := range sessions {
		if s.control {
			places = append(places, i)
			control = append(control, s)
		}
	}
	if len(control) < 2 {
		return
	}
	slices.SortFunc(control, func(a, b *session) int { return a.id - b.id })
	for j, at := range places {
		sessions[at] = control[(j+round)%len(control)]
	}
}

// thinkRound waits, before a round, until every session in it has had its
// think time, and reports false when the phase or the run ends first.
// Waiting here rather than each session on its own timer is what keeps
// the round's random order: sessions that each wake at their last
// response plus the think time go in the previous round's order, round
// after round, and a round-robin LB then hands each control session the
// same backend every time (a control group blind to a backend's loss).
func (r *Runner) thinkRound(ctx context.Context, ph *phase, sessions []*session) bool {
	var ready int64
	for _, s := range sessions {
		if ph.left(s) > 0 {
			ready = max(ready, s.notBefore)
		}
	}
	wait := time.Until(time.Unix(0, ready))
	if ready == 0 || wait <= 0 {
		return true
	}
	if ph.over(time.Now().Add(wait)) {
		return false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// visit waits for the session's think time and the global pacer, then sends
// its next request, or its first burst, and emits what happened on out.
// Nothing is emitted when the run was stopped first, or when a timed phase
// ended.
func (r *Runner) visit(ctx context.Context, w *worker, ph *phase, s *session, out chan<- Event) {
	if wait := time.Until(time.Unix(0, s.notBefore)); s.notBefore != 0 && wait > 0 {
		if ph.over(time.Now().Add(wait)) {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
	if n := r.burstSize(ph, s); n > 1 {
		r.burst(ctx, w, ph, s, n, out)
		return
	}
	if !r.take(ctx, 1) {
		return
	}
	if err := r.pacer.Wait(ctx); err != nil || ph.over(time.Now()) {
		r.give(1)
		return
	}
	ev := r.do(ctx, w, ph, s)
	r.give(1)
	r.advance(ph, s, 1)
	if ev.Error == ErrCanceled {
		r.cut.Add(1)
		return
	}
	s.after = "" // delivered: only the first request after an action carries it
	out <- ev
}

// advance counts n requests of s as sent in the phase and starts its think
// time. A session done with a counted phase lets its connection go, so an
// idle session holds no socket.
func (r *Runner) advance(ph *phase, s *session, n int) {
	s.seq += n
	s.done += int32(n)
	s.notBefore = r.now().Add(ph.think).UnixNano()
	if ph.count > 0 && ph.left(s) <= 0 {
		s.close()
	}
}

// take claims n of the run's in-flight tokens (--burst only: without
// bursts the worker count alone bounds what is in flight). A burst takes
// its tokens under gateMu, so two bursts cannot each hold part of theirs
// and wait for the rest forever.
func (r *Runner) take(ctx context.Context, n int) bool {
	if r.gate == nil {
		return true
	}
	if n > 1 {
		r.gateMu.Lock()
		defer r.gateMu.Unlock()
	}
	for i := 0; i < n; i++ {
		select {
		case r.gate <- struct{}{}:
		case <-ctx.Done():
			r.give(i)
			return false
		}
	}
	return true
}

// give returns n in-flight tokens.
func (r *Runner) give(n int) {
	if r.gate == nil {
		return
	}
	for i := 0; i < n; i++ {
		<-r.gate
	}
}

func (r *Runner) String() string {
	return fmt.Sprintf("%d sessions (+%d control) × %d requests, %s connections", r.spec.Sessions, r.spec.Control(), r.spec.Requests, r.spec.Conn)
}
