package probe

import (
	"context"
	"net/http"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// maxDrain bounds how much of a body is read so a keep-alive connection can
// be reused; a larger body costs a new connection, not the probe's memory.
const maxDrain = 256 << 10

// do sends one request of session s and records what happened.
func (r *Runner) do(runCtx context.Context, w *worker, ph *phase, s *session) Event {
	t, path := ph.target(s, len(r.targets))
	ev := Event{
		Session:     s.id,
		Control:     s.control,
		Seq:         s.seq,
		Frontend:    s.target.shown,
		TokenName:   r.TokenName(),
		TokenHeld:   s.held,
		Phase:       ph.name,
		Path:        path,
		AfterAction: s.after,
	}
	var jar []*http.Cookie
	if !s.control {
		jar = s.jar.Cookies(t.u)
		for _, c := range jar {
			if c.Name == ev.TokenName {
				ev.TokenSent = c.Value
			}
		}
	}
	mode := bodySkip // --conn fresh: the connection closes, nobody reads the rest
	switch {
	case r.ident.needsBody():
		mode = bodyRead
	case r.spec.Conn != scenarios.ConnFresh:
		mode = bodyDrain
	}
	var slot **conn
	if r.spec.Conn == scenarios.ConnSession {
		slot = &s.conn
	}

	// The client feeds the recorder (--har, -vv) from its own steps: the
	// dial's DNS and connect phases (httptrace hooks net.Dialer honours),
	// TLS handshake, the head as written, the first byte of the answer.
	rec := r.recorder() // nil unless the run records exchanges
	if rec != nil {
		rec.url = t.shown
	}
	w.rec = rec
	defer func() { w.rec = nil }()

	ev.Start = r.now()
	rec.start()
	rep, err := r.client.exchange(runCtx, w, t, slot, jar, mode, &ev)
	ev.Latency = r.now().Sub(ev.Start)
	rec.stop()
	if err != nil {
		ev.Error, ev.Detail = classifyError(runCtx, err), err.Error()
		ev.HTTP = r.exchange(rec, &ev, nil)
		return ev
	}
	resp := rep.resp
	ev.Status = resp.StatusCode
	if rep.bodyErr != nil {
		ev.Error, ev.Detail = classifyError(runCtx, rep.bodyErr), "reading body: "+rep.bodyErr.Error()
	} else if resp.StatusCode >= 500 {
		ev.Error = ErrHTTP5xx
	}

	r.observeToken(s, &ev, resp)
	ev.Backend = r.ident.backend(resp.Header, rep.body, r.setIdentity(resp, ev), sentIdentity(r.ident, t, jar, ev))
	ev.HTTP = r.exchange(rec, &ev, resp)
	return ev
}

// setIdentity is the value of the identity cookie the response set: the
// token's, or another cookie's when the identity cookie is not the token
// (--id cookie:A --token cookie:B, or --token source).
func (r *Runner) setIdentity(resp *http.Response, ev Event) string {
	name := r.ident.cookieName(ev.TokenName)
	switch {
	case name == "":
		return ""
	case name == ev.TokenName && r.tracksCookie():
		return ev.TokenSet
	}
	if ts := inspectSetCookie(resp.Header.Values("Set-Cookie"), name, r.now()); ts.cookie != nil {
		return ts.cookie.Value
	}
	return ""
}

// sentIdentity is the value of the identity cookie the request to t with
// the jar's cookies carried.
func sentIdentity(id *identifier, t *target, jar []*http.Cookie, ev Event) string {
	name := id.cookieName(ev.TokenName)
	if name == "" {
		return ""
	}
	if name == ev.TokenName {
		return ev.TokenSent
	}
	v, _ := t.sentCookie(jar, name)
	return v
}

// observeToken learns the token name if needed, records what the response
// did to the token, stores the response's cookies in the session's jar and
// checks that the jar would send the token back.
func (r *Runner) observeToken(s *session, ev *Event, resp *http.Response) {
	lines := resp.Header.Values("Set-Cookie")
	if ev.TokenName == "" && r.spec.Token.Kind == scenarios.TokenAuto && len(lines) > 0 {
		if name := learnTokenName(lines); name != "" {
			r.tokenName.CompareAndSwap(nil, &name)
			ev.TokenName = r.TokenName()
		}
	}
	if !s.control && len(lines) > 0 {
		cookies := resp.Cookies()
		s.jar.setCookies(resp.Request.URL, lines, cookies, r.now())
		if r.record {
			s.remember(resp.Request.URL.String(), cookies, r.now())
		}
	}
	if ev.TokenName == "" || !r.tracksCookie() {
		return
	}
	ts := inspectSetCookie(lines, ev.TokenName, r.now())
	switch {
	case ts.deleted:
		ev.TokenDeleted = true
		s.held = false
	case ts.refused != "":
		ev.TokenRefused = ts.refused
		if ts.refused == RefusedExpired {
			s.held = false // the jar drops a cookie set with a past expiry
		}
	case ts.cookie != nil:
		ev.TokenSet = ts.cookie.Value
		if s.control {
			break // stores nothing, refuses nothing
		}
		if jarSends(&s.jar, resp.Request.URL, ev.TokenName, ts.cookie.Value) {
			s.held = true
		} else {
			ev.TokenRefused = refusalReason(ts.cookie, resp.Request.URL)
		}
	}
}
