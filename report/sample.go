package report

import "github.com/stickyprobe/stickyprobe/probe"

// Sample is the short timeline of one broken session: its first request,
// the request before the switch, the switch and what followed, up to a
// bound.
type Sample struct {
	Session int           `json:"session"`
	Source  string        `json:"source,omitempty"` // the events file, in a merged report
	Cause   Cause         `json:"cause"`
	Refusal probe.Refusal `json:"refusal,omitempty"`
	Pin     string        `json:"pin"`
	Steps   []Step        `json:"steps"`
}

// Step is one request in a sample.
type Step struct {
	Seq          int             `json:"seq"`
	Backend      string          `json:"backend,omitempty"`
	Status       int             `json:"status,omitempty"`
	Error        probe.ErrorKind `json:"error,omitempty"`
	TokenSent    string          `json:"token_sent,omitempty"`
	TokenSet     string          `json:"token_set,omitempty"`
	TokenDeleted bool            `json:"token_deleted,omitempty"`
	TokenRefused probe.Refusal   `json:"token_refused,omitempty"`
	LatencyMS    float64         `json:"latency_ms"`
	Switch       bool            `json:"switch,omitempty"`
	Phase        string          `json:"phase,omitempty"`
	AfterAction  string          `json:"after_action,omitempty"` // the first request after this action
}

func (s *Summary) lookup(i int32, list []string) string {
	if i < 0 {
		return ""
	}
	return list[i]
}

func (s *Summary) toStep(st step, isSwitch bool) Step {
	out := Step{
		Seq:          int(st.seq),
		Backend:      s.lookup(st.backend, s.names),
		Status:       int(st.status),
		Error:        probe.ErrorKind(s.lookup(int32(st.err), s.kinds)),
		TokenSent:    s.lookup(st.sent, s.values),
		TokenSet:     s.lookup(st.set, s.values),
		TokenDeleted: st.deleted,
		TokenRefused: probe.Refusal(s.lookup(int32(st.refused), s.refusals)),
		LatencyMS:    float64(st.latUS) / 1000,
		Switch:       isSwitch,
	}
	if int(st.phase) < len(s.phases) {
		out.Phase = s.phases[st.phase].name
		if st.after {
			out.AfterAction = s.phases[st.phase].after
		}
	}
	return out
}

// startSample keeps the timeline of a session that just broke, if its
// cause still has room. Control sessions are expected to break and are
// never sampled.
func (s *Summary) startSample(id int, st *sessionState, cur step) {
	c := int(st.cause)
	if st.control || s.perCause[c] >= s.opts.SamplesPerCause {
		return
	}
	s.perCause[c]++
	sm := &Sample{
		Session: id,
		Cause:   Causes[c],
		Pin:     s.lookup(st.pin, s.names),
		Steps:   []Step{s.toStep(st.first, false)},
	}
	if Causes[c] == CauseTokenRefused {
		sm.Refusal = probe.Refusal(s.lookup(int32(st.refused), s.refusals))
	}
	if st.prev.seq > st.first.seq {
		sm.Steps = append(sm.Steps, s.toStep(st.prev, false))
	}
	sm.Steps = append(sm.Steps, s.toStep(cur, true))
	st.sample = int32(len(s.samples))
	s.samples = append(s.samples, sm)
}

// extendSample appends a request to a sampled session's timeline.
func (s *Summary) extendSample(st *sessionState, cur step, isSwitch bool) {
	if st.sample < 0 {
		return
	}
	sm := s.samples[st.sample]
	if len(sm.Steps) < maxSampleSteps {
		sm.Steps = append(sm.Steps, s.toStep(cur, isSwitch))
	}
}
