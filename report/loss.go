package report

import (
	"sort"
	"time"
)

// When a backend goes away, the load balancer must do something with the
// sessions pinned to it, and --on-backend-loss says what it should do:
// answer with errors (strict), move them and keep them where they land
// (failover-stay), or move them and bring them back once the backend
// returns (failover-return). A move the policy expects is not breakage.
//
// That a backend went away is read from evidence (loss_evidence.go), never
// from how long the run went on after it: a kill in the last round of a
// run is as much a loss as one in the first. Without evidence a move off a
// backend stays breakage.

// Bounds on what the tracker keeps.
const (
	maxTrackedBackends = 256
	maxSilences        = 32 // per backend
	maxMoveCandidates  = 64
	maxMoveSamples     = 10
)

// moveCandidate is a measured session's first move, kept (a bounded few)
// to show which sessions moved and when.
type moveCandidate struct {
	session       int
	from, to      int32
	at, returned  int64
	returnedKnown bool
}

// silenceAt returns the recognised loss of backend b that move m belongs
// to: m's response ended once b had stopped answering (in the very
// millisecond of its last answer counts: the LB moved the session as it
// went), and its request was sent before b answered again. The LB chose
// the new backend when the request came, so a move sent while b was gone
// and answered just after b's return (a redispatch takes a second or two)
// is still a move off a lost backend.
func (s *Summary) silenceAt(b int32, m move) (silence, bool) {
	l := &s.loss
	if b < 0 || int(b) >= len(l.backends) {
		return silence{}, false
	}
	for _, sl := range l.backends[b].silences {
		if s.msOf(sl.from) <= m.at && (sl.to == 0 || m.sent() < s.msOf(sl.to)) {
			return sl, true
		}
	}
	return silence{}, false
}

func (l *lossTracker) candidate(session int, from, to int32, at int64) {
	if len(l.cands) < maxMoveCandidates {
		l.cands = append(l.cands, moveCandidate{session: session, from: from, to: to, at: at})
	}
}

// returned notes that a candidate session came back to its pin at at.
func (l *lossTracker) returned(session int, at int64) {
	for i := range l.cands {
		if c := &l.cands[i]; c.session == session && !c.returnedKnown {
			c.returned, c.returnedKnown = at, true
		}
	}
}

// Session verdicts of Close.
const (
	verdictOpen     int8 = iota // not judged yet
	verdictSticky               // never changed backend
	verdictMoved                // moved as the loss policy expects: not breakage
	verdictBroken               // changed backend unexpectedly
	verdictUnjudged             // fewer than two identified responses
)

// judge decides a measured session: sticky, moved as expected, or broken
// with the cause and phase of its first unexpected move.
func (s *Summary) judge(st *sessionState) {
	switch {
	case st.identified < 2:
		st.verdict = verdictUnjudged
		return
	case st.carried:
		st.verdict = verdictBroken // its cause and phase are the carried ones
		return
	case st.moves == 0:
		st.verdict = verdictSticky
		return
	}
	broken := func(k int) {
		m := st.mv3
		if k < 2 {
			m = moveNote{phase: st.mv[k].phase, cause: st.mv[k].cause}
		}
		st.verdict, st.cause, st.broke = verdictBroken, m.cause, m.phase
	}
	policy := s.opts.OnBackendLoss
	gone, lost := s.silenceAt(st.pin, st.mv[0])
	switch {
	case policy == LossStrict || !lost || st.mv[0].cause == int8(causeIndex(CauseBirthSplit)):
		broken(0)
	case policy == LossFailoverReturn:
		back := gone.to != 0
		switch {
		case st.moves == 1 && (!back || st.lastAt < s.msOf(gone.to)):
			st.verdict = verdictMoved // moved, and had no request since the backend came back
		case st.moves == 1:
			broken(0) // the backend came back, the session stayed away
		case !st.mv[1].toPin || st.mv[1].at < s.msOf(gone.to):
			broken(1) // moved on elsewhere, or back before the backend was
		case st.moves == 2:
			st.verdict = verdictMoved // back home once its backend was
		default:
			broken(2)
		}
	default: // failover-stay
		switch {
		case st.moves == 1:
			st.verdict = verdictMoved
		case st.moves == 2 && st.mv[0].to >= 0 && s.lostOff(int32(st.mv[0].to), st.mv[1]):
			// The backend it moved to went away too (a rolling restart of
			// the backends): two expected moves, not a bounce.
			st.verdict = verdictMoved
		default:
			broken(1) // it bounced
		}
	}
}

// BackendLoss is what the report says of backends that went away and the
// sessions the load balancer moved off them.
type BackendLoss struct {
	Policy LossPolicy `json:"policy"`
	// Moved counts measured sessions that changed backend as Policy
	// expects, after their backend went away: not breakage.
	Moved int `json:"moved_sessions"`
	// Lost lists each backend's recognised losses.
	Lost []LostBackend `json:"lost,omitempty"`
	// Moves are a few of the expected moves.
	Moves []Move `json:"moves,omitempty"`
}

// LostBackend is one loss of one backend: a silence (it answered nobody)
// with the evidence that it was gone.
type LostBackend struct {
	Backend string     `json:"backend"`
	From    time.Time  `json:"from"`           // the end of its last response
	To      *time.Time `json:"to,omitempty"`   // its first response after; absent: it never came back
	Seconds float64    `json:"seconds"`        // To - From, or to the end of the run
	Moved   int        `json:"moved_sessions"` // expected moves off it during the silence
	// Evidence says how the loss was recognised, strongest first:
	// lb-state, control, departure, slow-move, after-error.
	Evidence []Evidence `json:"evidence"`
	// RecognizedAt is when the evidence was complete, RecognizedAfterS
	// how long after From.
	RecognizedAt     time.Time `json:"recognized_at"`
	RecognizedAfterS float64   `json:"recognized_after_s"`
	// Missed counts the unpinned responses (control sessions, first
	// responses, moves) that went elsewhere during the silence; MissedNeeded
	// is how many prove a live backend would have got one (0: its share
	// was not known).
	Missed       int64 `json:"missed_unpinned"`
	MissedNeeded int64 `json:"missed_needed,omitempty"`
}

// Move is one session the load balancer moved as expected.
type Move struct {
	Session  int        `json:"session"`
	Source   string     `json:"source,omitempty"` // the events file, in a merged report
	From     string     `json:"from"`
	To       string     `json:"to"`
	At       time.Time  `json:"at"`
	Returned *time.Time `json:"returned,omitempty"` // back to From (failover-return)
}

// closeLoss builds the report's backend-loss section from the judged
// sessions; nil when no backend went away.
func (s *Summary) closeLoss(lastEnd int64) *BackendLoss {
	policy := s.opts.OnBackendLoss
	if policy == "" {
		policy = LossFailoverStay
	}
	out := &BackendLoss{Policy: policy}
	moved := make(map[silenceKey]int)
	s.eachState(func(st *sessionState) {
		if !st.seen || st.control || st.verdict != verdictMoved {
			return
		}
		out.Moved++
		if sl, ok := s.silenceAt(st.pin, st.mv[0]); ok {
			moved[silenceKey{st.pin, sl.from}]++
		}
		if to := int32(st.mv[0].to); st.moves == 2 && to >= 0 {
			if sl, ok := s.silenceAt(to, st.mv[1]); ok {
				moved[silenceKey{to, sl.from}]++ // its second move, off the next lost backend
			}
		}
	})
	for b, bs := range s.loss.backends {
		for _, sl := range bs.silences {
			lb := LostBackend{Backend: s.names[b], From: time.Unix(0, sl.from).UTC(), Moved: moved[silenceKey{int32(b), sl.from}],
				Evidence: evidenceList(sl.evidence), RecognizedAt: time.Unix(0, sl.at).UTC(), RecognizedAfterS: seconds(sl.at - sl.from),
				Missed: sl.draws, MissedNeeded: sl.k}
			end := lastEnd
			if sl.to != 0 {
				to := time.Unix(0, sl.to).UTC()
				lb.To, end = &to, sl.to
			}
			lb.Seconds = seconds(end - sl.from)
			out.Lost = append(out.Lost, lb)
		}
	}
	sort.SliceStable(out.Lost, func(i, j int) bool { return out.Lost[i].From.Before(out.Lost[j].From) })
	for _, c := range s.loss.cands {
		if len(out.Moves) == maxMoveSamples {
			break
		}
		if st := s.state(c.session); st.verdict == verdictMoved {
			m := Move{Session: c.session, From: s.names[c.from], To: s.names[c.to], At: time.Unix(0, c.at).UTC()}
			if c.returnedKnown {
				t := time.Unix(0, c.returned).UTC()
				m.Returned = &t
			}
			out.Moves = append(out.Moves, m)
		}
	}
	if len(out.Lost) == 0 && out.Moved == 0 {
		return nil
	}
	return out
}

// seconds is a span of Unix ns in seconds, to the millisecond.
func seconds(ns int64) float64 { return float64(ns/int64(time.Millisecond)) / 1e3 }

type silenceKey struct {
	backend int32
	from    int64
}

// lostOff reports whether move m left backend b while b was recognised
// as lost, and was not a birth split.
func (s *Summary) lostOff(b int32, m move) bool {
	if m.cause == int8(causeIndex(CauseBirthSplit)) {
		return false
	}
	_, lost := s.silenceAt(b, m)
	return lost
}
