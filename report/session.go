package report

import "github.com/stickyprobe/stickyprobe/probe"

// SessionView is what the summary knows of one session so far: -v marks
// switches with it as they happen, and the HAR picks broken sessions.
type SessionView struct {
	Seen     bool
	Control  bool
	Broken   bool   // switched backend; once the summary is closed, unexpectedly (not a move --on-backend-loss expects)
	Moved    bool   // closed summary: moved off a backend that went away, as expected
	Pin      string // backend of the first identified response
	Cause    Cause  // why it broke; "" while it has not
	Refusal  probe.Refusal
	Requests int
	Switches int
}

// Session returns the view of session id; a session never seen has the
// zero view.
func (s *Summary) Session(id int) SessionView {
	if id < 0 || id >= s.nStates {
		return SessionView{}
	}
	st := s.state(id)
	v := SessionView{
		Seen:     st.seen,
		Control:  st.control,
		Broken:   st.switches > 0,
		Pin:      s.lookup(st.pin, s.names),
		Requests: int(st.requests),
		Switches: int(st.switches),
	}
	if st.cause >= 0 {
		v.Cause = Causes[st.cause]
	}
	if s.closed && !st.control {
		v.Broken, v.Moved, v.Cause = st.verdict == verdictBroken, st.verdict == verdictMoved, ""
		if v.Broken {
			v.Cause = Causes[st.cause]
		}
	}
	if v.Cause == CauseTokenRefused {
		v.Refusal = probe.Refusal(s.lookup(int32(st.refused), s.refusals))
	}
	return v
}

// Sessions is one more than the highest session id seen.
func (s *Summary) Sessions() int { return s.nStates }
