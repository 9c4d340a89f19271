package report

// CarryPin pins a session to backend before its first event, for a session
// kept from an earlier run (stickyprobe monitor --session-lifetime). A
// switch between the two runs, such as an expiry while the user was idle,
// is then seen, counted and explained like a switch within a run; without
// it each run would pin the session afresh and miss it.
//
// The carried response counts as one identified response, so one more in
// this run is enough to judge the session. Call it before the session's
// first Add; a carry after it, or with no backend, is ignored.
func (s *Summary) CarryPin(session int, backend string) {
	if backend == "" {
		return
	}
	st := s.state(session)
	if st.requests > 0 || st.pin >= 0 {
		return
	}
	s.pinTo(st, backend)
	st.last = st.pin
	st.identified = 1
}

// pinTo pins a session to a backend carried from elsewhere (an earlier
// cycle, a saved state), before any event of this run.
func (s *Summary) pinTo(st *sessionState, backend string) {
	st.pin = intern(backend, &s.names, s.nameIdx)
	// Close reads a request count for every interned name, and this one
	// may never answer in this run.
	for st.pin >= 0 && int(st.pin) >= len(s.backendRq) {
		s.backendRq = append(s.backendRq, 0)
	}
}
