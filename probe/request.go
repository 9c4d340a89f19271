package probe

import (
	"context"
	"net/http"
	"strings"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// maxDrain bounds how much of a body is read so a keep-alive connection can
// be reused; a larger body costs a new connection, not the probe's memory.
const maxDrain = 256 << 10

// call is one request on its way: what prepare decided, what send got
// back. A burst has several under way at once for one session; only
// finish touches the session.
type call struct {
	ev     Event
	t      *target
	jar    []*http.Cookie // what the jar sends with it, read-only
	src    int            // index in the runner's sources; -1 none
	rec    *recorder      // nil unless the run records exchanges
	rep    reply
	err    error
	slot   **conn   // the session's own connection (--conn session), else nil
	h2slot **h2conn // the same for --http2
}

// do sends one request of session s and records what happened.
func (r *Runner) do(runCtx context.Context, w *worker, ph *phase, s *session) Event {
	c := r.prepare(ph, s, s.seq, int(s.done))
	if r.spec.Conn == scenarios.ConnSession {
		c.slot, c.h2slot = &s.conn, &s.h2
	}
	r.send(runCtx, w, &c, nil)
	r.followRedirects(runCtx, s, &c)
	r.finish(runCtx, s, &c)
	return c.ev
}

// prepare decides the frontend, path and source of the session's request
// seq (the k-th of the phase) and takes what its jar sends.
func (r *Runner) prepare(ph *phase, s *session, seq, k int) call {
	front := r.frontendOf(s, seq)
	t, path := ph.target(r.targets, front, k)
	c := call{t: t, src: r.sourceOf(s, seq)}
	c.ev = Event{
		Session:     s.id,
		Control:     s.control,
		Seq:         seq,
		Frontend:    r.targets[front].shown,
		TokenName:   r.TokenName(),
		TokenHeld:   s.held,
		Phase:       ph.name,
		Path:        path,
		AfterAction: s.after,
	}
	if !s.control {
		c.jar = s.jar.Cookies(t.u)
		for _, ck := range c.jar {
			if ck.Name == c.ev.TokenName {
				c.ev.TokenSent = ck.Value
			}
		}
	}
	return c
}

// send makes the exchange of c over the network: the connection policy's
// connection (c.slot for --conn session), or h2, an HTTP/2 connection to
// multiplex over. It touches no session state.
func (r *Runner) send(runCtx context.Context, w *worker, c *call, h2 *h2conn) {
	mode := r.bodyMode()
	// The client feeds the recorder (--har, -vv) from its own steps: the
	// dial's DNS and connect phases (httptrace hooks net.Dialer honours),
	// TLS handshake, the head as written, the first byte of the answer.
	c.rec = r.recorder()
	if c.rec != nil {
		c.rec.url = c.t.shown
	}
	w.rec = c.rec
	defer func() { w.rec = nil }()

	c.ev.Start = r.now()
	c.rec.start()
	if r.spec.HTTP2 {
		c.rep, c.err = r.client.exchangeH2(runCtx, w, c.t, h2, c.h2slot, c.src, c.jar, mode, &c.ev)
	} else {
		c.rep, c.err = r.client.exchange(runCtx, w, c.t, c.slot, c.src, c.jar, mode, &c.ev)
	}
	c.ev.Latency = r.now().Sub(c.ev.Start)
	c.rec.stop()
}

// stopClock takes the latency of a call that followed redirects: the
// whole chain, as a user waits for it.
func (r *Runner) stopClock(c *call) {
	if len(c.ev.Redirects) > 0 {
		c.ev.Latency = r.now().Sub(c.ev.Start)
	}
}

// bodyMode is how much of a body the run reads. Under --conn fresh the
// connection closes after the response, so nobody reads the rest of a
// body no identity is taken from (--id body: is the only one that needs
// it): reading it would only cost time, and wait on a server that is slow
// to send it. A server that hangs on its body thus passes under --conn
// fresh; --conn session or shared drain it (up to maxDrain) to reuse the
// connection, and see such a server fail.
func (r *Runner) bodyMode() bodyMode {
	switch {
	case r.ident.needsBody():
		return bodyRead
	case r.spec.Conn != scenarios.ConnFresh || r.spec.HTTP2:
		return bodyDrain
	}
	return bodySkip
}

// finish records what the exchange of c says: error, status, what the
// response did to the token (storing its cookies in the session's jar),
// and the backend.
func (r *Runner) finish(runCtx context.Context, s *session, c *call) {
	ev := &c.ev
	r.stopClock(c)
	if c.err != nil {
		ev.Error, ev.Detail = classifyError(runCtx, c.err), c.err.Error()
		ev.HTTP = r.exchange(c.rec, ev, nil)
		return
	}
	resp := c.rep.resp
	ev.Status = resp.StatusCode
	if c.rep.bodyErr != nil {
		ev.Error, ev.Detail = classifyError(runCtx, c.rep.bodyErr), "reading body: "+c.rep.bodyErr.Error()
	} else if resp.StatusCode >= 500 {
		ev.Error = ErrHTTP5xx
	}

	if u := redirectTarget(resp); u != nil {
		ev.Location = r.shownURL(u) // not followed, or not followable
	}
	r.observeToken(s, ev, resp)
	ev.Backend = r.ident.backend(resp.StatusCode, resp.Header, c.rep.body, r.setIdentity(resp, *ev), sentIdentity(r.ident, c.t, c.jar, *ev))
	ev.HTTP = r.exchange(c.rec, ev, resp)
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
	r.noteFirstLook(ev, resp, lines)
	if ev.TokenName == "" && r.spec.Token.Kind == scenarios.TokenAuto && len(lines) > 0 {
		if name := learnTokenName(lines); name != "" {
			r.tokenName.CompareAndSwap(nil, &name)
			ev.TokenName = r.TokenName()
		}
	}
	var unread, evicted bool
	if !s.control && len(lines) > 0 {
		var cookies []*http.Cookie
		cookies, unread, evicted = r.storeCookies(s, resp.Request.URL, lines, resp)
		if r.record && len(cookies) > 0 {
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
		u := resp.Request.URL
		ev.TokenSecureLoopback = ts.cookie.Secure && u.Scheme == "http" && secureOrigin(strings.ToLower(u.Hostname()))
		if s.control {
			break // stores nothing, refuses nothing
		}
		if jarSends(&s.jar, resp.Request.URL, ev.TokenName, ts.cookie.Value) {
			s.held = true
		} else {
			ev.TokenRefused = r.refusal(ts.cookie, resp.Request.URL, unread, evicted)
		}
	}
}
