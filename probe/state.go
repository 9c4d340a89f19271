package probe

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// A session's state can be carried from one process to another (--save-state
// and --resume): a CI job probes, restarts the load balancer, and probes the
// same users again. Go's cookie jar cannot be listed, so while recording the
// runner keeps its own copy of what each jar was given, and a restore replays
// it into fresh jars.

// Bounds on what a session records and a restore accepts: real sessions
// hold a handful of cookies.
const (
	maxSavedCookies = 64
	maxCookieBytes  = 8 << 10
)

// ErrState is wrapped by every error of Restore.
var ErrState = errors.New("probe: bad saved state")

// SessionState is what a later process needs to continue a session: its
// place in the request sequence, whether it holds the token, and the
// cookies in its jar. Cookie values may be application session cookies:
// whoever stores a SessionState must keep it as secret as those.
type SessionState struct {
	ID      int           `json:"id"`
	Control bool          `json:"control,omitempty"`
	Seq     int           `json:"seq"` // requests sent so far
	Held    bool          `json:"token_held,omitempty"`
	Cookies []SavedCookie `json:"cookies,omitempty"`
}

// SavedCookie is one cookie as a jar was given it.
type SavedCookie struct {
	URL      string    `json:"url"` // the request that set it: scopes a host-only cookie and the default path
	Name     string    `json:"name"`
	Value    string    `json:"value"`
	Domain   string    `json:"domain,omitempty"`
	Path     string    `json:"path,omitempty"`
	Expires  time.Time `json:"expires,omitzero"` // zero for a session cookie; Max-Age is turned into this
	Secure   bool      `json:"secure,omitempty"`
	HTTPOnly bool      `json:"http_only,omitempty"`
}

// RecordCookies makes the runner keep a copy of every cookie each session
// stores, so Snapshot can save them. It costs memory per session, so it is
// off unless state is to be saved; call it before the first phase.
func (r *Runner) RecordCookies() { r.record = true }

// remember records cookies set by a response to reqURL, replacing earlier
// ones with the same name, domain and path, and dropping deleted ones.
func (s *session) remember(reqURL string, cookies []*http.Cookie, now time.Time) {
	for _, c := range cookies {
		sc := SavedCookie{URL: reqURL, Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path,
			Expires: c.Expires, Secure: c.Secure, HTTPOnly: c.HttpOnly}
		switch {
		case c.MaxAge > 0:
			sc.Expires = now.Add(time.Duration(c.MaxAge) * time.Second)
		case c.MaxAge < 0:
			sc.Expires = now.Add(-time.Second)
		}
		gone := !sc.Expires.IsZero() && !sc.Expires.After(now)
		i := 0
		for ; i < len(s.cookies); i++ {
			o := s.cookies[i]
			if o.Name == sc.Name && o.Domain == sc.Domain && o.Path == sc.Path {
				break
			}
		}
		switch {
		case i < len(s.cookies) && gone:
			s.cookies = append(s.cookies[:i], s.cookies[i+1:]...)
		case i < len(s.cookies):
			s.cookies[i] = sc
		case !gone && len(s.cookies) < maxSavedCookies:
			s.cookies = append(s.cookies, sc)
		}
	}
}

// Snapshot returns every session's state, in session order. Cookies are
// only included if RecordCookies was called before the run.
func (r *Runner) Snapshot() []SessionState {
	sessions := make([]*session, len(r.ensureSessions()))
	for _, s := range r.sessions {
		sessions[s.id] = s // phases shuffle r.sessions in place
	}
	out := make([]SessionState, len(sessions))
	for i, s := range sessions {
		out[i] = SessionState{ID: s.id, Control: s.control, Seq: s.seq, Held: s.held,
			Cookies: append([]SavedCookie(nil), s.cookies...)}
	}
	return out
}

// Restore continues saved sessions: states must describe exactly the
// sessions this runner's spec has (same counts, same control group). Each
// jar is refilled with its saved cookies; expired ones are dropped, as a
// browser would. tokenName is the token learned by the saving run, if any.
// Every session's next request is marked as the first after "resume".
// Call Restore before the first phase.
func (r *Runner) Restore(states []SessionState, tokenName string) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrState, fmt.Sprintf(format, a...))
	}
	n := r.spec.Sessions + r.spec.Control()
	if len(states) != n {
		return bad("%d sessions saved, but this run has %d (%d measured + %d control): resume with the same --sessions and --control",
			len(states), n, r.spec.Sessions, r.spec.Control())
	}
	if tokenName != "" && !validCookieName(tokenName) {
		return bad("token name %q is not a cookie name", tokenName)
	}
	sessions := r.newSessions(true)
	seen := make([]bool, n)
	now := r.now()
	for _, st := range states {
		switch {
		case st.ID < 0 || st.ID >= n || seen[st.ID]:
			return bad("session id %d is out of range or repeated", st.ID)
		case st.Control != (st.ID >= r.spec.Sessions):
			return bad("session %d: control group membership differs from this run's", st.ID)
		case st.Seq < 0 || st.Seq > 1<<30:
			return bad("session %d: seq %d", st.ID, st.Seq)
		case len(st.Cookies) > maxSavedCookies:
			return bad("session %d: %d cookies, at most %d", st.ID, len(st.Cookies), maxSavedCookies)
		}
		seen[st.ID] = true
		s := sessions[st.ID]
		s.seq, s.after = st.Seq, "resume"
		if s.control {
			continue // a control session keeps nothing
		}
		for _, sc := range st.Cookies {
			u, err := url.Parse(sc.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return bad("session %d: cookie %q: bad url %q", st.ID, sc.Name, sc.URL)
			}
			if !validCookieName(sc.Name) || len(sc.Name)+len(sc.Value)+len(sc.Domain)+len(sc.Path) > maxCookieBytes {
				return bad("session %d: cookie %q is not a valid cookie", st.ID, sc.Name)
			}
			c := &http.Cookie{Name: sc.Name, Value: sc.Value, Domain: sc.Domain, Path: sc.Path,
				Expires: sc.Expires, Secure: sc.Secure, HttpOnly: sc.HTTPOnly}
			s.jar.restore(u, []*http.Cookie{c}, r.browserJar())
			if sc.Expires.IsZero() || sc.Expires.After(now) {
				s.cookies = append(s.cookies, sc)
			}
		}
		if st.Held && tokenName != "" {
			s.held = jarHolds(&s.jar, r.targets[s.front].u, tokenName)
		}
	}
	if tokenName != "" && r.spec.Token.Kind == scenarios.TokenAuto {
		r.tokenName.CompareAndSwap(nil, &tokenName)
	}
	r.sessions = sessions
	return nil
}

func jarHolds(jar cookieSource, u *url.URL, name string) bool {
	for _, c := range jar.Cookies(u) {
		if c.Name == name {
			return true
		}
	}
	return false
}

func validCookieName(name string) bool {
	return (&http.Cookie{Name: name, Value: "x"}).Valid() == nil
}
