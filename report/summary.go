package report

import (
	"math"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/scenarios"
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
	// SourceToken is true with --token source: a switch that comes with a
	// new client address is source-changed.
	SourceToken bool
	// OnBackendLoss is what the LB should do when a session's backend
	// disappears ("" = failover-stay): expected moves are not breakage.
	OnBackendLoss LossPolicy
	// MinBackends and MaxImbalance judge the spread of the sessions over
	// the backends: -1 and 0 are automatic and off (see spread.go).
	MinBackends  int
	MaxImbalance float64
}

// LossPolicy is what the LB should do when a session's backend goes away:
// the spec's own type, so a run's setting reaches the summary unconverted.
type LossPolicy = scenarios.LossPolicy

const (
	LossStrict         = scenarios.LossStrict
	LossFailoverStay   = scenarios.LossFailoverStay
	LossFailoverReturn = scenarios.LossFailoverReturn
)

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
	front   int16 // interned frontend; -1 none
	flags   uint8 // stepDeleted, stepAfter, stepBurst
}

const (
	stepDeleted uint8 = 1 << iota // the response deleted the token
	stepAfter                     // the first request after an action
	stepBurst                     // one of the session's first requests, sent at once
)

// move is one change of backend between two identified responses of a
// session: the first is its first switch. Whether it is breakage is only
// known at Close, once it is known whether the backend it left had gone.
type move struct {
	at    uint32 // when its response ended, in the summary's milliseconds (msOf)
	lat   uint16 // its latency in ms (capped): the request was sent at at-lat
	phase int16
	to    int16 // the backend it moved to; -1 beyond int16's range
	cause int8
	toPin bool // back to the pin
}

// sent is when the move's request was sent (msOf). A latency beyond the
// cap makes it later than it was: a move is then judged by a later moment,
// never an earlier one.
func (m move) sent() uint32 { return m.at - min(uint32(m.lat), m.at) }

// moveNote is what is kept of a third move: its cause and phase.
type moveNote struct {
	phase int16
	cause int8
	toPin bool
}

// sessionState is everything kept per session between its events.
type sessionState struct {
	first, prev step
	pin         int32 // backend of the first identified response; -1 none yet
	last        int32 // backend of the last identified response; -1 none yet
	requests    int32
	identified  int32
	switches    int32 // identified responses from another backend than the pin
	sample      int32
	lastAt      uint32   // when its last identified response ended (msOf)
	mv          [2]move  // the first two moves
	mv3         moveNote // the third
	moves       int16
	src         uint32 // hash of the last client address seen (--token source); 0 none
	refused     int16  // interned; the last refusal seen, -1 none
	wake        int16  // phase whose first requests follow an action (exec, pause, resume); -1 none
	broke       int16  // phase of the first switch, then (Close) of the breakage; -1 none (or before a resume)
	cause       int8   // index in Causes of the first switch, then (Close) of the breakage; -1 sticky so far
	verdict     int8   // Close's judgement: verdictOpen before it
	seen        bool
	control     bool
	prevFailed  bool
	deleted     bool // the LB deleted the token at least once
	carried     bool // broken in an earlier run (Resume): stays broken
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
	notes            Notes // error reasons, the probe's own errors, redirects
	latency          latencyHist
	tokenName        string

	samples  []*Sample
	perCause [16]int // samples started per cause

	plan      []PhasePlan  // a scenario's phases (SetPlan)
	phases    []phaseStats // in order of first event
	lastPhase int16        // index of the last event's phase, a cache
	actions   map[string]Action

	lastEnd int64      // the latest end of a response, Unix ns
	t0      int64      // the origin of msOf, Unix ns: a minute before the first event started
	fronts  frontStats // requests per frontend and backend (spread.go)
	loss    lossTracker
	closed  bool // Close judged every session
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
		fronts:    frontStats{idx: make(map[string]int32)},
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
		s.pages[s.nStates/sessionsPerPage][s.nStates%sessionsPerPage] = sessionState{pin: -1, last: -1, cause: -1, sample: -1, refused: -1, wake: -1, broke: -1}
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

	s.noteEvent(ev)
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
		phase:   ph,
		front:   s.fronts.intern(ev.Frontend),
	}
	if ev.TokenDeleted {
		cur.flags |= stepDeleted
	}
	if ev.AfterAction != "" {
		cur.flags |= stepAfter
	}
	if ev.Burst {
		cur.flags |= stepBurst
	}
	if cur.backend >= 0 {
		for int(cur.backend) >= len(s.backendRq) {
			s.backendRq = append(s.backendRq, 0)
		}
		s.backendRq[cur.backend]++
	}
	if s.t0 == 0 {
		s.t0 = ev.Start.UnixNano() - int64(time.Minute) // events come in completion order: a little out of start order
	}
	end := ev.Start.UnixNano() + int64(ev.Latency)
	s.lastEnd = max(s.lastEnd, end)

	if st.requests == 0 {
		st.first = cur
	}
	st.requests++
	srcMoved := s.opts.SourceToken && s.sourceMoved(st, ev.Local)
	if cur.backend >= 0 {
		s.lossSeen(st, cur.backend, end, ev.TokenSent != "", ev.Latency)
		st.identified++
		offPin := false
		switch {
		case st.pin < 0:
			st.pin = cur.backend
		case cur.backend != st.pin:
			offPin = true
			st.switches++
		}
		moved := st.last >= 0 && cur.backend != st.last
		if moved {
			s.addMove(ev, st, cur, ph, end, srcMoved)
		} else {
			s.extendSample(st, cur, offPin)
		}
		st.last, st.lastAt = cur.backend, s.msOf(end)
		s.fronts.add(cur.front, cur.backend, moved && !st.control)
	} else {
		s.extendSample(st, cur, false)
		s.fronts.add(cur.front, -1, false)
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

// addMove records that session st changed backend with this response:
// the move's cause, and for its first move (its first switch) the
// session's cause so far and a sample timeline.
func (s *Summary) addMove(ev *probe.Event, st *sessionState, cur step, ph int16, end int64, srcMoved bool) {
	cause := int8(causeIndex(s.classify(st, ev, cur, srcMoved)))
	m := move{at: s.msOf(end), lat: uint16(min(ev.Latency.Milliseconds(), math.MaxUint16)), phase: ph, to: -1, cause: cause, toPin: cur.backend == st.pin}
	if cur.backend >= 0 && cur.backend <= math.MaxInt16 {
		m.to = int16(cur.backend)
	}
	switch st.moves {
	case 0, 1:
		st.mv[st.moves] = m
	case 2:
		st.mv3 = moveNote{phase: ph, cause: cause, toPin: m.toPin}
	}
	if st.moves < math.MaxInt16 {
		st.moves++
	}
	if st.moves == 1 && st.cause < 0 {
		st.broke, st.cause = ph, cause
		if !st.control {
			s.loss.candidate(ev.Session, st.pin, cur.backend, end)
		}
		s.startSample(ev.Session, st, cur)
		return
	}
	if m.toPin && !st.control {
		s.loss.returned(ev.Session, end)
	}
	s.extendSample(st, cur, !m.toPin)
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

// classify explains a move of a session, from the session's past and the
// response that moved it. A burst's split outranks everything: none of its
// requests could carry a token. Then the token's absence: a session that
// never carried its token was never pinned, whatever else happened.
func (s *Summary) classify(st *sessionState, ev *probe.Event, cur step, srcMoved bool) Cause {
	if ev.Burst {
		return CauseBirthSplit
	}
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
	if cur.front >= 0 && st.prev.front >= 0 && cur.front != st.prev.front {
		return CauseFrontendChanged
	}
	if srcMoved {
		return CauseSourceChanged
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

// msOf is Unix time ns in the summary's milliseconds: since t0, clamped
// to 32 bits (49 days, longer than a run may last).
func (s *Summary) msOf(ns int64) uint32 {
	return uint32(min(max((ns-s.t0)/int64(time.Millisecond), 0), math.MaxUint32))
}

// sourceMoved reports whether the client address of local ("ip:port")
// differs from the session's last one, and remembers it. Only addresses
// count: a new port is a new connection, not a new client.
func (s *Summary) sourceMoved(st *sessionState, local string) bool {
	if local == "" {
		return false // no connection: nothing known
	}
	host := local
	if i := strings.LastIndexByte(local, ':'); i >= 0 {
		host = local[:i]
	}
	h := uint32(2166136261) // FNV-1a, without allocating
	for i := 0; i < len(host); i++ {
		h = (h ^ uint32(host[i])) * 16777619
	}
	if h == 0 {
		h = 1
	}
	moved := st.src != 0 && st.src != h
	st.src = h
	return moved
}
