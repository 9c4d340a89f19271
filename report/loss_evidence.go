package report

import (
	"math"
	"time"
)

// A backend's silence is the stretch since its last response in which it
// answered nobody. Every silence is a candidate loss; it is recognised as
// one only with evidence, each kind of which holds however soon the run
// ends after it:
//
//   - what the LB says (ServerStates): it marked the server down. The
//     strongest, used whenever it is present.
//   - the control group: unpinned responses (control sessions, sessions'
//     first responses, moves) are the LB's free choices, and a live
//     backend with share p of them is missed K times in a row with
//     probability (1-p)^K. K is the smallest with that below 0.1%
//     (about 18 with three even backends).
//   - the departure: two or more of its sessions, each answered by it at
//     least twice, moved off it, and none of its sessions had moved
//     before.
//   - the move itself: a session left it on a response far slower than
//     the run's typical one (the LB retried, then redispatched), or right
//     after its requests failed.
//
// Every kind but the LB's own word also needs the sessions pinned to the
// other backends to have stayed (at least minOthers of them judged, at
// most one in ten moved): a load
// balancer without persistence moves sessions off every backend, which is
// no loss of one.

// lossMissed is the chance, at most, that the control evidence takes a
// live backend for a lost one.
const lossMissed = 0.001

// minLossDraws is the fewest unpinned responses from which a backend's
// share is trusted for the control evidence.
const minLossDraws = 10

// minOthers is the fewest sessions pinned to other backends, judged, from
// which their staying shows that the LB keeps persistence.
const minOthers = 5

// slowMove: a move at least this much slower than the run's median, and
// three times its 90th percentile, is the LB's retries and redispatch
// (HAProxy's turn-around between retries is min(timeout connect, 1 s)).
const slowMove = 500 * time.Millisecond

// Evidence names what showed that a backend went away, strongest first.
type Evidence string

const (
	EvidenceLBState    Evidence = "lb-state"    // the LB marked it down (ServerStates)
	EvidenceControl    Evidence = "control"     // K unpinned responses in a row missed it
	EvidenceDeparture  Evidence = "departure"   // its sessions moved off it at once, the others stayed
	EvidenceSlowMove   Evidence = "slow-move"   // a session left it on a far slower response
	EvidenceAfterError Evidence = "after-error" // a session left it after failed requests
)

// evidenceOrder is the order of the evidence bits.
var evidenceOrder = []Evidence{EvidenceLBState, EvidenceControl, EvidenceDeparture, EvidenceSlowMove, EvidenceAfterError}

// ServerStates is what a load balancer reports of its servers, e.g.
// HAProxy's Runtime API (`show servers state`). Server names are the
// backend names the probe identified.
type ServerStates interface {
	// DownAt says when the LB marked server down and when up again (up
	// zero: still down, or not known); ok is false when it never did or
	// the server is unknown.
	DownAt(server string) (down, up time.Time, ok bool)
}

// What HAProxy's Runtime API said during the run is such a view.
var _ ServerStates = (*LBState)(nil)

// SetServerStates gives the summary the LB's own view of its servers, the
// strongest evidence of a loss. Call it before Close.
func (s *Summary) SetServerStates(st ServerStates) { s.loss.states = st }

// silence is a recognised loss: a stretch in which one backend answered
// nobody, with the evidence that it was gone.
type silence struct {
	from, to int64 // end of its last response before, of its first after (Unix ns); to 0: silent to the end
	at       int64 // when the evidence was complete (Unix ns)
	evidence uint8 // bits in evidenceOrder
	draws, k int64 // unpinned responses that missed it, and how many prove it gone (0: its share is unknown)
	moved    int32 // sessions that left it
}

// openSilence is a backend's silence in progress: since its last response.
type openSilence struct {
	from           int64
	draws0, k      int64         // l.draws at its start; draws in a row that prove it gone (0: unknown)
	share          float64       // its share of the unpinned responses before
	drawsAt        int64         // when the k-th came (Unix ns); 0 not yet
	moved          int32         // measured sessions that moved off it
	settled        int32         // of them, sessions pinned to it that it had answered twice, on their first move
	secondAt       int64         // end of the second such move
	slowLat        time.Duration // the slowest move off it that it was silent throughout
	slowAt, errAt  int64         // that move's end; the first move after errors
	stickyBefore   bool          // none of its sessions had moved before the first move off it
	judged, broken int32         // sessions pinned elsewhere, judged and moved, at the latest move off it
	othersMeasured bool
}

type backendSeen struct {
	answered       bool
	lastEnd        int64 // the latest end of its responses, Unix ns
	drawsOn        int64 // unpinned responses it got
	judged, broken int32 // measured sessions pinned to it: with two identified responses, that moved
	open           openSilence
	silences       []silence
}

// lossTracker watches every backend's answers, across sessions.
type lossTracker struct {
	draws    int64 // unpinned responses so far
	drawn    int   // backends that got one
	backends []backendSeen
	cands    []moveCandidate
	states   ServerStates
}

func (l *lossTracker) backend(b int32) *backendSeen {
	for int(b) >= len(l.backends) {
		l.backends = append(l.backends, backendSeen{})
	}
	return &l.backends[b]
}

// lossSeen takes an identified response from backend b that ended at end,
// before session st counts it.
func (s *Summary) lossSeen(st *sessionState, b int32, end int64, tokenSent bool, lat time.Duration) {
	l := &s.loss
	if b >= maxTrackedBackends || st.last >= maxTrackedBackends || st.pin >= maxTrackedBackends {
		return
	}
	l.backend(max(b, st.pin, st.last)) // grown once: the pointers below stay valid
	bs := l.backend(b)
	moved := st.last >= 0 && st.last != b
	if !st.control {
		if st.identified == 1 && st.pin >= 0 {
			l.backend(st.pin).judged++
		}
		if moved {
			s.departed(st, end, lat)
		}
	}
	if st.control || moved || st.identified == 0 && !tokenSent {
		l.draw(b, end)
	}
	if bs.answered {
		s.closeSilence(b, end)
	}
	bs.answered, bs.lastEnd = true, max(bs.lastEnd, end)
	sh := l.share(b)
	bs.open = openSilence{from: bs.lastEnd, draws0: l.draws, share: sh, k: needDraws(sh, l.drawn)}
}

// departed notes that measured session st moved off the backend it was
// last answered by, with a response that ended at end and took lat.
func (s *Summary) departed(st *sessionState, end int64, lat time.Duration) {
	l := &s.loss
	bs := l.backend(st.last)
	if !bs.answered {
		// A pin carried from an earlier run (CarryPin) to a backend that
		// has answered nobody in this one: silent since the run began.
		bs.answered = true
		bs.open = openSilence{from: s.t0 + int64(time.Minute)}
	}
	o := &bs.open
	if o.moved++; o.moved == 1 {
		o.stickyBefore = bs.broken == 0
	}
	if st.pin == st.last && st.moves == 0 && st.identified >= 2 {
		// It had answered this session at least twice: it was its
		// backend, not a first landing.
		if o.settled++; o.settled == 2 {
			o.secondAt = end
		}
	}
	// A slow move is the LB's retries only if the backend answered
	// nobody while they went on.
	if lat >= slowMove && lat > o.slowLat && end-int64(lat) >= o.from {
		o.slowLat, o.slowAt = lat, end // judged against the run's latency when the silence ends
	}
	if o.errAt == 0 && st.prevFailed {
		o.errAt = end
	}
	o.judged, o.broken = l.others(st.last)
	o.othersMeasured = true
	if st.moves == 0 && st.pin >= 0 {
		l.backend(st.pin).broken++
	}
}

// draw counts an unpinned response from b: one more miss for every other
// backend's silence.
func (l *lossTracker) draw(b int32, end int64) {
	l.draws++
	if l.backends[b].drawsOn++; l.backends[b].drawsOn == 1 {
		l.drawn++
		for i := range l.backends { // one more backend to share with: every K grows
			if o := &l.backends[i].open; o.k > 0 {
				o.k = needDraws(o.share, l.drawn)
			}
		}
	}
	for i := range l.backends {
		o := &l.backends[i].open
		if int32(i) != b && l.backends[i].answered && o.k > 0 && o.drawsAt == 0 && l.draws-o.draws0 >= o.k {
			o.drawsAt = end
		}
	}
}

// share is backend b's share of the unpinned responses so far; 0 when it
// is not known yet.
func (l *lossTracker) share(b int32) float64 {
	if l.draws < minLossDraws {
		return 0
	}
	return float64(l.backends[b].drawsOn) / float64(l.draws)
}

// needDraws is K: the unpinned responses in a row that miss a live
// backend of share p with probability below lossMissed. The share is
// taken at most even over the n backends seen, so one overestimated from
// few responses cannot make K too small. 0 when unknown.
func needDraws(p float64, n int) int64 {
	if p <= 0 || n < 2 {
		return 0
	}
	p = min(p, 1/float64(n))
	return int64(math.Ceil(math.Log(lossMissed) / math.Log(1-p)))
}

// others counts the measured sessions pinned to backends other than b
// and to no backend that is itself going away: judged, and moved.
func (l *lossTracker) others(b int32) (judged, broken int32) {
	for i := range l.backends {
		p := &l.backends[i]
		if int32(i) == b || len(p.silences) > 0 || p.open.settled >= 2 && p.open.stickyBefore {
			continue
		}
		judged += p.judged
		broken += p.broken
	}
	return judged, broken
}

// closeSilence ends backend b's silence at to (its first response after;
// 0: the end of the run) and keeps it as a loss if there is evidence.
func (s *Summary) closeSilence(b int32, to int64) {
	bs := &s.loss.backends[b]
	o := &bs.open
	switch {
	case len(bs.silences) >= maxSilences, o.moved == 0 && o.drawsAt == 0 && to != 0:
		return // a gap between two answers that nobody noticed
	case to != 0 && to <= o.from:
		return // merged files: another vantage's earlier answer
	}
	sl := silence{from: o.from, to: to, draws: s.loss.draws - o.draws0, k: o.k, moved: o.moved}
	at := int64(math.MaxInt64)
	mark := func(e Evidence, when int64) {
		if when == 0 || to != 0 && to < when {
			return // none, or the backend answered before it was complete
		}
		for i, x := range evidenceOrder {
			if x == e {
				sl.evidence |= 1 << i
			}
		}
		at = min(at, max(when, o.from))
	}
	if st := s.loss.states; st != nil && int(b) < len(s.names) {
		if down, up, ok := st.DownAt(s.names[b]); ok && (to == 0 || down.UnixNano() < to) && (up.IsZero() || up.UnixNano() > o.from) {
			mark(EvidenceLBState, down.UnixNano())
		}
	}
	judged, broken := o.judged, o.broken
	if !o.othersMeasured {
		judged, broken = s.loss.others(b)
	}
	if judged >= minOthers && 10*broken <= judged {
		mark(EvidenceControl, o.drawsAt)
		if o.settled >= 2 && o.stickyBefore {
			mark(EvidenceDeparture, o.secondAt)
		}
		if o.slowLat >= max(s.latency.quantile(0.5)+slowMove, 3*s.latency.quantile(0.9)) {
			mark(EvidenceSlowMove, o.slowAt)
		}
		mark(EvidenceAfterError, o.errAt)
	}
	if sl.evidence == 0 {
		return
	}
	sl.at = at
	bs.silences = append(bs.silences, sl)
}

// closeLossTracker ends every silence still open at the end of the run.
func (s *Summary) closeLossTracker() {
	for b := range s.loss.backends {
		if s.loss.backends[b].answered {
			s.closeSilence(int32(b), 0)
		}
	}
}

// evidenceList names the evidence bits, strongest first.
func evidenceList(bits uint8) []Evidence {
	var out []Evidence
	for i, e := range evidenceOrder {
		if bits&(1<<i) != 0 {
			out = append(out, e)
		}
	}
	return out
}
