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
	Frontend     string          `json:"frontend,omitempty"` // the LB node it went to
	Burst        bool            `json:"burst,omitempty"`    // one of the session's first requests, sent at once
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
		TokenDeleted: st.flags&stepDeleted != 0,
		TokenRefused: probe.Refusal(s.lookup(int32(st.refused), s.refusals)),
		LatencyMS:    float64(st.latUS) / 1000,
		Switch:       isSwitch,
		Burst:        st.flags&stepBurst != 0,
	}
	if st.front >= 0 {
		out.Frontend = s.fronts.names[st.front]
	}
	if int(st.phase) < len(s.phases) {
		out.Phase = s.phases[st.phase].name
		if st.flags&stepAfter != 0 {
			out.AfterAction = s.phases[st.phase].after
		}
	}
	return out
}

// sampleCandidates: how many times SamplesPerCause timelines a cause
// starts.
const sampleCandidates = 3

// startSample keeps the timeline of a session that just broke, if its
// cause still has room. Control sessions are expected to break and are
// never sampled.
func (s *Summary) startSample(id int, st *sessionState, cur step) {
	c := int(st.cause)
	// More are started than kept: Close drops the sessions whose switch
	// was a move the loss policy expects, and keeps SamplesPerCause of
	// each cause.
	if st.control || s.perCause[c] >= sampleCandidates*s.opts.SamplesPerCause {
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

// closeSamples keeps the samples of the sessions Close judged broken, with
// the cause it gave: a session whose first switch was a move the loss
// policy expects is not broken, or broke later, for another reason.
func (s *Summary) closeSamples() []*Sample {
	out := make([]*Sample, 0, len(s.samples))
	var kept [len(s.perCause)]int
	for _, sm := range s.samples {
		st := s.state(sm.Session)
		if st.control || st.verdict != verdictBroken || kept[st.cause] >= s.opts.SamplesPerCause {
			continue
		}
		kept[st.cause]++
		sm.Cause = Causes[st.cause]
		if sm.Cause != CauseTokenRefused {
			sm.Refusal = ""
		}
		if len(s.fronts.names) <= 1 {
			for i := range sm.Steps {
				sm.Steps[i].Frontend = "" // one frontend: saying it on every step says nothing
			}
		}
		out = append(out, sm)
	}
	return out
}
