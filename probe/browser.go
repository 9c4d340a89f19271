package probe

import (
	"context"
	"net/http"
	"net/url"
)

// Browser is how the simulated users' client behaves where a scenario
// does not say: whose cookie rules its jar follows, and whether it
// follows redirects. It is a setting of the client, not of the test, so it
// comes with the run's context (WithBrowser) from the command line, and
// a scenario file or a saved state stays what it was.
type Browser struct {
	Jar             JarMode // "" is JarBrowser
	FollowRedirects bool    // follow 3xx answers within the session's jar
}

type browserKey struct{}

// WithBrowser returns ctx carrying b for the runs started with it.
func WithBrowser(ctx context.Context, b Browser) context.Context {
	return context.WithValue(ctx, browserKey{}, b)
}

// BrowserFrom is the Browser ctx carries, the default one if none.
func BrowserFrom(ctx context.Context) Browser {
	b, _ := ctx.Value(browserKey{}).(Browser)
	if b.Jar == "" {
		b.Jar = JarBrowser
	}
	return b
}

// browserJar reports whether the jars follow the browser rules.
func (r *Runner) browserJar() bool { return r.browser.Jar != JarRFC6265 }

// storeCookies stores the response's cookies from u in the session's jar
// as the run's jar mode does. It returns what was stored, whether the
// response's cookies could not be read at all (net/http's parser reads no
// cookie of a response with more than 3,000 Set-Cookie lines), and
// whether the limit per domain evicted cookies.
func (r *Runner) storeCookies(s *session, u *url.URL, lines []string, resp *http.Response) (cookies []*http.Cookie, unread, evicted bool) {
	cookies = resp.Cookies()
	if len(cookies) == 0 {
		return nil, true, false
	}
	stored := lines
	if r.browserJar() {
		var dropped bool
		if stored, dropped = filterBrowser(u, lines); dropped {
			cookies = (&http.Response{Header: http.Header{"Set-Cookie": stored}}).Cookies()
		}
	}
	evicted = s.jar.store(u, stored, cookies, r.now(), r.browserJar())
	return cookies, false, evicted
}

// refusal explains why the jar does not send back the token c that a
// response from u set.
func (r *Runner) refusal(c *http.Cookie, u *url.URL, unread, evicted bool) Refusal {
	if unread {
		return RefusedTooMany
	}
	if reason := refusalDomain(c, u); reason != "" {
		return reason
	}
	if r.browserJar() {
		if reason := browserRefusal(c, u); reason != "" {
			return reason
		}
	}
	reason := refusalReason(c, u)
	if reason == RefusedInvalid && evicted {
		return RefusedEvicted
	}
	return reason
}
