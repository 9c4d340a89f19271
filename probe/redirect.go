package probe

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// A frontend that answers 301/302 (to https, to a login page, to a
// canonical host) names no backend: judged as they are, its responses
// say nothing about persistence. The probe says where they pointed
// (Event.Location) and, with Browser.FollowRedirects, follows them as a
// browser does: each hop with the session's jar, the hop's cookies
// stored before the next request, GET all along (the probe only GETs),
// any host, http or https; the final response names the backend and is
// what the event records.

// maxRedirects is where the chain stops, as net/http's client stops:
// browsers allow 20, but a chain of 10 is a loop in practice.
const maxRedirects = 10

var errRedirectLoop = fmt.Errorf("probe: stopped after %d redirects (a redirect loop)", maxRedirects)

// isRedirect reports whether code is a redirect a browser follows.
func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// redirectTarget is where resp redirects to, resolved against the URL
// requested; nil when it is no redirect or points nowhere a browser would
// go (no Location, not http or https).
func redirectTarget(resp *http.Response) *url.URL {
	if resp == nil || !isRedirect(resp.StatusCode) || resp.Request == nil {
		return nil
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil
	}
	u, err := resp.Request.URL.Parse(loc)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil
	}
	u.Fragment, u.RawFragment = "", ""
	return u
}

// shownURL is u as events record it: password redacted, and the query,
// which may carry a session id or a token, left out.
func (r *Runner) shownURL(u *url.URL) string {
	v := *u
	query := v.RawQuery != "" || v.ForceQuery
	v.RawQuery, v.ForceQuery = "", false
	s := r.trace.Redactor.URL(&v)
	if query {
		s += "?…"
	}
	return s
}

// followRedirects follows c's response while it redirects, under the
// run's Browser setting: each hop's cookies go into the session's jar,
// and c ends with the final exchange. Hops have their own connections,
// closed after them: the connection policy is about the frontend.
func (r *Runner) followRedirects(runCtx context.Context, s *session, c *call) {
	if !r.browser.FollowRedirects || c.err != nil {
		return
	}
	w := newWorker()
	defer context.AfterFunc(runCtx, w.stop)()
	for hops := 0; ; hops++ {
		next := redirectTarget(c.rep.resp)
		if next == nil {
			return
		}
		if hops == maxRedirects {
			c.rep, c.err = reply{}, errRedirectLoop
			return
		}
		r.observeToken(s, &c.ev, c.rep.resp)
		t := newTarget(r.spec, next, r.dialer, true, 0)
		c.t, c.jar, c.slot, c.h2slot = t, nil, nil, nil
		if !s.control {
			c.jar = s.jar.Cookies(t.u)
		}
		// The exchange recorded (--har, -vv) is the first request's;
		// a chain of hops is not one exchange.
		c.rec = nil
		shown := r.shownURL(next)
		c.ev.Redirects = append(c.ev.Redirects, shown)
		if r.spec.HTTP2 {
			c.rep, c.err = r.client.exchangeH2(runCtx, w, t, nil, nil, c.src, c.jar, r.bodyMode(), &c.ev)
		} else {
			c.rep, c.err = r.client.exchange(runCtx, w, t, nil, c.src, c.jar, r.bodyMode(), &c.ev)
		}
		if c.err != nil {
			c.err = fmt.Errorf("following the redirect to %s: %w", shown, c.err)
			return
		}
	}
}
