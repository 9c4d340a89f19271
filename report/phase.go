package report

import (
	"fmt"
	"math"
	"strings"
)

// maxPhases bounds the phases a summary tracks; a scenario has at most 100.
const maxPhases = 128

// PhasePlan is one phase of a scenario as planned: the report lists every
// phase in this order, with what happened in it.
type PhasePlan struct {
	Name string
	Kind string // requests, exec, wait, pause
}

// Phase is what happened in one phase of a scenario.
type Phase struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// After names the action (an exec or pause phase, or "resume") right
	// before this phase: a first switch in it is blamed on that action.
	After    string `json:"after,omitempty"`
	Requests int64  `json:"requests"`
	Errors   int64  `json:"errors"`
	// Broken counts the measured sessions whose first switch happened in
	// this phase, by cause in Causes.
	Broken  int           `json:"broken_sessions"`
	Causes  map[Cause]int `json:"causes,omitempty"`
	Action  *Action       `json:"action,omitempty"`  // exec, wait and pause phases that ran
	Skipped bool          `json:"skipped,omitempty"` // the run stopped before this phase
}

// Action is the result of an exec, wait or pause phase.
type Action struct {
	Command      string  `json:"command,omitempty"`
	ExitCode     int     `json:"exit_code"` // -1 when the command did not exit by itself
	Error        string  `json:"error,omitempty"`
	Output       string  `json:"output,omitempty"` // the end of stdout and stderr, bounded
	OutputBytes  int64   `json:"output_bytes,omitempty"`
	DurationS    float64 `json:"duration_s"`
	Failed       bool    `json:"failed,omitempty"`
	AllowFailure bool    `json:"allow_failure,omitempty"` // a failure does not fail the run
}

// phaseStats is what the summary counts per phase.
type phaseStats struct {
	name             string
	after            string
	requests, errors int64
}

// SetPlan gives the scenario's phases, in order, so the report lists every
// phase, the ones without requests (exec, wait, pause) too.
func (s *Summary) SetPlan(plan []PhasePlan) { s.plan = append([]PhasePlan(nil), plan...) }

// Action records the result of the exec, wait or pause phase called name.
// A failed action fails the run unless it was allowed to fail.
func (s *Summary) Action(name string, a Action) {
	if s.actions == nil {
		s.actions = make(map[string]Action)
	}
	s.actions[name] = a
}

// Carried is a session's judgement so far, carried from one process to the
// next by --save-state and --resume, so the second run judges the same
// sessions against the pins the first one saw.
type Carried struct {
	Pin        string `json:"pin,omitempty"`
	Identified int    `json:"identified,omitempty"`
	Switches   int    `json:"switches,omitempty"`
	Cause      Cause  `json:"cause,omitempty"`
}

// Carry returns session id's judgement so far.
func (s *Summary) Carry(id int) Carried {
	if id < 0 || id >= s.nStates {
		return Carried{}
	}
	st := s.state(id)
	c := Carried{Pin: s.lookup(st.pin, s.names), Identified: int(st.identified), Switches: int(st.switches)}
	if st.cause >= 0 {
		c.Cause = Causes[st.cause]
	}
	if s.closed {
		switch st.verdict {
		case verdictMoved:
			// Moved as expected: its new backend is its home now.
			c.Pin, c.Switches, c.Cause = s.lookup(st.last, s.names), 0, ""
		case verdictBroken:
			c.Cause = Causes[st.cause]
		}
	}
	return c
}

// Resume seeds session id with a judgement carried from an earlier run,
// before any of its events. A session carried as broken stays broken.
func (s *Summary) Resume(id int, control bool, c Carried) {
	st := s.state(id)
	st.seen, st.control = true, control
	s.pinTo(st, c.Pin)
	st.identified = int32(min(max(c.Identified, 0), math.MaxInt32))
	st.switches = int32(min(max(c.Switches, 0), math.MaxInt32))
	if st.pin >= 0 {
		st.last = st.pin // a move is judged from where the session was
	}
	if st.switches > 0 {
		st.carried = true
		cause := c.Cause
		if cause == "" {
			cause = CauseUnexplained
		}
		st.cause = int8(causeIndex(cause))
	}
}

// closePhases builds the report's phases: the plan's, in order, then any
// phase seen in the events but not planned (a replayed stream). A plain run
// (one unnamed phase, no plan) has none.
func (s *Summary) closePhases(r *Report) {
	if len(s.plan) == 0 && (len(s.phases) == 0 || len(s.phases) == 1 && s.phases[0].name == "") {
		return
	}
	index := make(map[string]int)
	add := func(name, kind string) *Phase {
		r.Phases = append(r.Phases, Phase{Name: name, Kind: kind})
		index[name] = len(r.Phases) - 1
		return &r.Phases[len(r.Phases)-1]
	}
	for _, p := range s.plan {
		ph := add(p.Name, p.Kind)
		if a, ok := s.actions[p.Name]; ok {
			ph.Action = &a
		}
	}
	byStats := make([]int, len(s.phases))
	for i, st := range s.phases {
		j, ok := index[st.name]
		if !ok {
			add(st.name, "requests")
			j = len(r.Phases) - 1
		}
		byStats[i] = j
		ph := &r.Phases[j]
		ph.After, ph.Requests, ph.Errors = st.after, st.requests, st.errors
	}
	s.eachState(func(st *sessionState) {
		if !st.seen || st.control || st.verdict != verdictBroken || st.broke < 0 {
			return
		}
		ph := &r.Phases[byStats[st.broke]]
		ph.Broken++
		if ph.Causes == nil {
			ph.Causes = make(map[Cause]int)
		}
		ph.Causes[Causes[st.cause]]++
	})
	ran := false
	for i := len(r.Phases) - 1; i >= 0; i-- {
		ph := &r.Phases[i]
		ran = ran || ph.Requests > 0 || ph.Action != nil
		ph.Skipped = !ran && i < len(s.plan)
	}
}

// actionFailures are the verdict's reasons from failed actions: the ones
// that fail the run, and the allowed ones as notes.
func actionFailures(r *Report) (fails, notes []string) {
	for _, ph := range r.Phases {
		a := ph.Action
		if a == nil || !a.Failed {
			continue
		}
		msg := fmt.Sprintf("phase %s failed: %s", ph.Name, a.Error)
		if a.AllowFailure {
			notes = append(notes, msg+" (allow_failure: not counted)")
		} else {
			fails = append(fails, msg)
		}
	}
	return fails, notes
}

// phaseNote is the last column of the phases section.
func phaseNote(ph Phase) string {
	a := ph.Action
	switch {
	case ph.Skipped:
		return "not reached"
	case a == nil && ph.Kind != "requests":
		return "-"
	case a == nil:
		parts := []string{}
		if ph.After != "" {
			parts = append(parts, "after "+ph.After)
		}
		if len(ph.Causes) > 0 {
			parts = append(parts, countList(ph.Causes))
		}
		return strings.Join(parts, "; ")
	case a.Failed && a.AllowFailure:
		return "failed (allowed): " + a.Error
	case a.Failed:
		return "FAILED: " + a.Error
	case ph.Kind == "exec":
		return fmt.Sprintf("ok in %s", secondsText(a.DurationS))
	}
	return secondsText(a.DurationS)
}

func secondsText(s float64) string {
	if s < 10 {
		return fmt.Sprintf("%.1f s", s)
	}
	return fmt.Sprintf("%.0f s", s)
}
