package probe

import "time"

// session is one simulated user. It is plain data: a worker borrows it for
// one request at a time, so it needs no lock.
type session struct {
	id        int
	control   bool
	target    *target // the home frontend, shared by its sessions: the one of --frontends pin
	front     int     // index of target in the runner's targets
	jar       jar     // unused by a control session: it never stores anything
	conn      *conn   // own keep-alive connection (--conn session), else nil
	h2        *h2conn // own HTTP/2 connection (--http2 --conn session), else nil
	seq       int
	done      int           // requests sent in the current phase
	held      bool          // the jar holds the token, as far as the probe saw it accept one
	notBefore time.Time     // think time: the next request may not start earlier
	after     string        // name of the action since the last request, until one is delivered
	cookies   []SavedCookie // what the jar was given, kept only when the runner records (Snapshot)
}

func newSession(id int, control bool, t *target, front int, shared *jarShared) *session {
	s := &session{id: id, control: control, target: t, front: front}
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
