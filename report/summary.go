package report

import (
	"github.com/stickyprobe/stickyprobe/probe"
)

// Options are the thresholds and knobs of a summary.
type Options struct {
	MinStickiness float64
	MaxErrorRate  float64
	// ExpectSpread judges spread instead of stickiness (--token none).
	ExpectSpread bool
	// CookieToken is true when the token is a cookie (given or learned), so
	// the absence of one is evidence.
	CookieToken bool
	// SamplesPerCause bounds the timelines kept; 0 means 3.
	SamplesPerCause int
}

// maxInterned caps distinct backend names and token values; beyond it they
// are counted under "other", so a backend that names itself with a request
// id cannot exhaust memory.
const maxInterned = 4096

// maxSampleSteps bounds one sample's timeline.
const maxSampleSteps = 12

// step is a compact record of one request, small enough to keep two per
// session: 32 bytes, every string interned.
type step struct {
	seq     int32
	backend int32 // interned; -1 unidentified
	sent    int32 // interned token value; -1 none
	set     int32 // interned token value; -1 none
	latUS   int32
	err     int16 // interned error kind (a handful, below maxInterned); -1 none
	refused int16 // interned refusal (a handful, below maxInterned); -1 none
	status  int16
	phase   int16 // index in Summary.phases
	deleted bool
	after   bool // the first request after an action
}

// sessionState is everything kept per session between its events.
type sessionState struct {
	first, prev step
	pin         int32 // backend of the first identified response; -1 none yet
	requests    int32
	identified  int32
	switches    int32
	sample      int32
	refused     int16 // interned; the last refusal seen, -1 none
	wake        int16 // phase whose first requests follow an action (exec, pause, resume); -1 none
	broke       int16 // phase of the first switch; -1 none (or before a resume)
	cause       int8  // index in Causes; -1 sticky so far
	seen        bool
	control     bool
	prevFailed  bool
	deleted     bool // the LB deleted the token at least once
}

// Summary aggregates events. It is not safe for concurrent use: one
// goroutine owns it.
type Summary struct {
	opts    Options
	pages   [][]sessionState // sessionsPerPage each: growing never copies them
	nStates int              // states in pages

	names     []string // interned backend names
	nameIdx   map[string]int32
	values    []string // interned token values
	valueIdx  map[string]int32
	kinds     []string // interned error kinds
	kindIdx   map[string]int32
	refusals  []string // interned refusals
	refusalIx map[string]int32
	backendRq []int64 // requests per interned backend

	requests, errors int64
	errKinds         map[probe.ErrorKind]int64
	latency          latencyHist
	tokenName        string

	samples  []*Sample
	perCause [16]int // samples started per cause

	plan      []PhasePlan  // a scenario's phases (SetPlan)
	phases    []phaseStats // in order of first event
	lastPhase int16        // index of the last event's phase, a cache
	actions   map[string]Action
}

// NewSummary returns an empty summary.
func NewSummary(opts Options) *Summary {
	if opts.SamplesPerCause <= 0 {
		opts.SamplesPerCause = 3
	}
	return &Summary{
		opts:      opts,
		nameIdx:   make(map[string]int32),
		valueIdx:  make(map[string]int32),
		kindIdx:   make(map[string]int32),
		refusalIx: make(map[string]int32),
		errKinds:  make(map[probe.ErrorKind]int64),
	}
}

func intern(s string, list *[]string, idx map[string]int32) int32 {
	if s == "" {
		return -1
	}
	if i, ok := idx[s]; ok {
		return i
	}
	if len(*list) >= maxInterned {
		s = "other"
		if i, ok := idx[s]; ok {
			return i
		}
	}
	i := int32(len(*list))
	*list = append(*list, s)
	idx[s] = i
	return i
}

// sessionsPerPage is the number of session states allocated at a time. A
// run of 100,000 sessions grows its states without ever copying them (a
// slice grown by append would hold old and new arrays at once).
const sessionsPerPage = 1024

func (s *Summary) state(id int) *sessionState {
	if id < 0 {
		id = 0
	}
	for id >= s.nStates {
		if s.nStates%sessionsPerPage == 0 {
			s.pages = append(s.pages, make([]sessionState, sessionsPerPage))
		}
		s.pages[s.nStates/sessionsPerPage][s.nStates%sessionsPerPage] = sessionState{pin: -1, cause: -1, sample: -1, refused: -1, wake: -1, broke: -1}
		s.nStates++
	}
	return &s.pages[id/sessionsPerPage][id%sessionsPerPage]
}

// eachState calls f with every session state, in order of session id.
func (s *Summary) eachState(f func(st *sessionState)) {
	for i := range s.nStates {
		f(&s.pages[i/sessionsPerPage][i%sessionsPerPage])
	}
}

// Add takes one event. Events of a session must come in Seq order.
func (s *Summary) Add(ev *probe.Event) {
	st := s.state(ev.Session)
	st.seen = true
	st.control = ev.Control
	if ev.TokenName != "" {
		s.tokenName = ev.TokenName
	}

	ph := s.phase(ev.Phase)
	switch {
	case ev.AfterAction != "":
		st.wake = ph
		if s.phases[ph].after == "" {
			s.phases[ph].after = ev.AfterAction
		}
	case st.wake != ph:
		st.wake = -1 // the wake lasts the phase right after the action
	}
	s.phases[ph].requests++

	s.requests++
	if ev.Failed() {
		s.errors++
		s.errKinds[ev.Error]++
		s.phases[ph].errors++
	}
	if ev.Error == "" || ev.Error == probe.ErrHTTP5xx {
		s.latency.add(ev.Latency)
	}

	cur := step{
		seq:     int32(ev.Seq),
		backend: intern(ev.Backend, &s.names, s.nameIdx),
		sent:    intern(ev.TokenSent, &s.values, s.valueIdx),
		set:     intern(ev.TokenSet, &s.values, s.valueIdx),
		latUS:   int32(min(ev.Latency.Microseconds(), 1<<31-1)),
		status:  int16(ev.Status),
		err:     int16(intern(string(ev.Error), &s.kinds, s.kindIdx)),
		refused: int16(intern(string(ev.TokenRefused), &s.refusals, s.refusalIx)),
		deleted: ev.TokenDeleted,
		after:   ev.AfterAction != "",
		phase:   ph,
	}
	if cur.backend >= 0 {
		for int(cur.backend) >= len(s.backendRq) {
			s.backendRq = append(s.backendRq, 0)
		}
		s.backendRq[cur.backend]++
	}

	if st.requests == 0 {
		st.first = cur
	}
	st.requests++
	if cur.backend >= 0 {
		st.identified++
		switch {
		case st.pin < 0:
			st.pin = cur.backend
		case cur.backend != st.pin:
			st.switches++
			if st.cause < 0 {
				st.broke = ph
				st.cause = int8(causeIndex(s.classify(st, ev)))
				s.startSample(ev.Session, st, cur)
			} else {
				s.extendSample(st, cur, true)
			}
		default:
			s.extendSample(st, cur, false)
		}
	} else {
		s.extendSample(st, cur, false)
	}
	if cur.refused >= 0 {
		st.refused = cur.refused
	}
	if ev.TokenDeleted {
		st.deleted = true
	}
	st.prevFailed = ev.Failed()
	st.prev = cur
}

// phase returns the index of the phase called name, adding it on first
// sight. Scenarios have a handful of phases; the cache makes the common
// case (same phase as the last event) one string comparison.
func (s *Summary) phase(name string) int16 {
	if int(s.lastPhase) < len(s.phases) && s.phases[s.lastPhase].name == name {
		return s.lastPhase
	}
	for i := range s.phases {
		if s.phases[i].name == name {
			s.lastPhase = int16(i)
			return s.lastPhase
		}
	}
	if len(s.phases) >= maxPhases {
		return int16(len(s.phases) - 1) // a replayed stream with absurdly many phases: lump the rest
	}
	s.phases = append(s.phases, phaseStats{name: name})
	s.lastPhase = int16(len(s.phases) - 1)
	return s.lastPhase
}

// classify explains the first switch of a session, from the session's past
// and the switching request. The token's absence outranks everything: a
// session that never carried its token was never pinned, whatever else
// happened.
func (s *Summary) classify(st *sessionState, ev *probe.Event) Cause {
	// A session that does not carry its token was not pinned, action or
	// not; one that was, and switched in the phase right after an action,
	// is the action's doing, even if a request failed on the way (the
	// LB restarting).
	if s.opts.CookieToken && ev.TokenSent == "" {
		switch {
		case ev.TokenHeld:
			return CauseTokenNotSent
		case st.refused >= 0:
			return CauseTokenRefused
		}
		return CauseNoToken
	}
	if st.wake >= 0 {
		return CauseAfterAction
	}
	if st.prevFailed {
		return CauseAfterError
	}
	if s.opts.CookieToken {
		if ev.TokenSet != "" && ev.TokenSet != ev.TokenSent {
			return CauseTokenReassigned
		}
		return CauseTokenIgnored
	}
	return CauseUnexplained
}
