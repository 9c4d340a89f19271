package probe

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"time"

	"golang.org/x/net/publicsuffix"
)

// session is one simulated user. It is plain data: a worker borrows it for
// one request at a time, so it needs no lock.
type session struct {
	id        int
	control   bool
	frontend  *url.URL
	target    string          // the frontend as recorded (password redacted), shared by its sessions
	reqURL    string          // the frontend as requested, shared by its sessions
	jar       *cookiejar.Jar  // nil for a control session: it never stores anything
	rt        *http.Transport // own keep-alive connection (--conn session), else nil
	seq       int
	held      bool          // the jar holds the token, as far as the probe saw it accept one
	notBefore time.Time     // think time: the next request may not start earlier
	after     string        // name of the action since the last request, until one is delivered
	cookies   []SavedCookie // what the jar was given, kept only when the runner records (Snapshot)
}

func newSession(id int, control bool, frontend *url.URL) *session {
	s := &session{id: id, control: control, frontend: frontend, target: frontend.String(), reqURL: frontend.String()}
	if !control {
		// cookiejar.New only fails on options it does not get here.
		s.jar, _ = cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	}
	return s
}

// close releases the session's connection once it has no requests left, so
// an idle session holds no socket.
func (s *session) close() {
	if s.rt != nil {
		s.rt.CloseIdleConnections()
		s.rt = nil
	}
}
