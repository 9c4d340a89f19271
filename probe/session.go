package probe

// session is one simulated user. It is plain data: a worker borrows it for
// one request at a time, so it needs no lock.
//
// At 100,000 sessions every byte here is 100 KB of a run's memory (twice
// that in RSS, with the GC's headroom): hence int32 and Unix nanoseconds
// where they do.
type session struct {
	id        int
	seq       int
	front     int32 // index of its home frontend (the one of --frontends pin) in the runner's targets
	done      int32 // requests sent in the current phase
	control   bool
	held      bool          // the jar holds the token, as far as the probe saw it accept one
	notBefore int64         // think time: the next request may not start before this (Unix ns); 0 none
	jar       jar           // unused by a control session: it never stores anything
	conn      *conn         // own keep-alive connection (--conn session), else nil
	h2        *h2conn       // own HTTP/2 connection (--http2 --conn session), else nil
	after     string        // name of the action since the last request, until one is delivered
	cookies   []SavedCookie // what the jar was given, kept only when the runner records (Snapshot)
}

func newSession(id int, control bool, front int, shared *jarShared) *session {
	s := &session{id: id, control: control, front: int32(front)}
	s.jar.shared = shared
	return s
}

// close releases the session's connection once it has no requests left, so
// an idle session holds no socket.
func (s *session) close() {
	if s.conn != nil {
		s.conn.close()
		s.conn = nil
	}
	if s.h2 != nil {
		s.h2.close()
		s.h2 = nil
	}
}
