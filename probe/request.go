package probe

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// maxDrain bounds how much of a body is read so a keep-alive connection can
// be reused; a larger body costs a new connection, not the probe's memory.
const maxDrain = 256 << 10

// do sends one request of session s and records what happened.
func (r *Runner) do(runCtx context.Context, s *session) Event {
	u := s.frontend
	ev := Event{
		Session:   s.id,
		Control:   s.control,
		Seq:       s.seq,
		Frontend:  s.target,
		TokenName: r.TokenName(),
		TokenHeld: s.held,
	}
	ctx, cancel := context.WithTimeout(runCtx, r.spec.Timeout)
	defer cancel()
	rec := r.recorder() // nil unless the run records exchanges
	ctx = httptrace.WithClientTrace(ctx, clientTrace(&ev, rec))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ev.Frontend, nil)
	if err != nil { // the URL was parsed already; this cannot happen
		ev.Error, ev.Detail = ErrOther, err.Error()
		return ev
	}
	for _, h := range r.spec.Headers {
		if h.Name == "Host" {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	req.Header.Set("User-Agent", "stickyprobe")
	if s.jar != nil {
		for _, c := range s.jar.Cookies(u) {
			req.AddCookie(c)
			if c.Name == ev.TokenName {
				ev.TokenSent = c.Value
			}
		}
	}

	ev.Start = r.now()
	rec.start()
	resp, err := r.transportFor(s).RoundTrip(req)
	if err != nil {
		ev.Latency = r.now().Sub(ev.Start)
		rec.stop()
		ev.Error, ev.Detail = classifyError(runCtx, err), err.Error()
		ev.HTTP = r.exchange(rec, &ev, nil)
		return ev
	}
	var body []byte
	if r.ident.needsBody() {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxBodyIdentify))
	} else if r.shared == nil || !r.shared.DisableKeepAlives {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	}
	resp.Body.Close()
	ev.Latency = r.now().Sub(ev.Start)
	rec.stop()
	ev.Status = resp.StatusCode
	if err != nil {
		ev.Error, ev.Detail = classifyError(runCtx, err), "reading body: "+err.Error()
	} else if resp.StatusCode >= 500 {
		ev.Error = ErrHTTP5xx
	}

	r.observeToken(s, &ev, resp)
	ev.Backend = r.ident.backend(resp.Header, body, r.setIdentity(resp, ev), sentIdentity(r.ident, req, ev))
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

// sentIdentity is the value of the identity cookie the request carried.
func sentIdentity(id *identifier, req *http.Request, ev Event) string {
	name := id.cookieName(ev.TokenName)
	if name == "" {
		return ""
	}
	if name == ev.TokenName {
		return ev.TokenSent
	}
	if c, err := req.Cookie(name); err == nil {
		return c.Value
	}
	return ""
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
	if s.jar != nil && len(lines) > 0 {
		s.jar.SetCookies(resp.Request.URL, resp.Cookies())
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
		if s.jar == nil {
			break // control session: stores nothing, refuses nothing
		}
		if jarSends(s.jar, resp.Request.URL, ev.TokenName, ts.cookie.Value) {
			s.held = true
		} else {
			ev.TokenRefused = refusalReason(ts.cookie, resp.Request.URL)
		}
	}
}
