package probe

import (
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// maxBodyIdentify bounds how much of a body is read to find a body pattern:
// a backend's name is near the top of a page, and a probe must not buffer
// whatever a misbehaving server streams.
const maxBodyIdentify = 64 << 10

// identifier recognises the backend that served a response. It is built
// once from the spec and called for every response.
type identifier struct {
	spec    scenarios.Identify
	headers []string // tried in order (header and auto kinds)
	// byHeader: in auto mode a header has named a backend, so the cookie
	// is no longer asked. Mixing the two would name one server twice
	// ("server1" by its header, "s1" by its cookie) and see a switch
	// where there is none: a response without the header (an LB's error
	// page) then names nobody.
	byHeader atomic.Bool
}

func newIdentifier(spec scenarios.Identify) *identifier {
	id := &identifier{spec: spec}
	switch spec.Kind {
	case scenarios.IdentifyHeader:
		id.headers = []string{spec.Name}
	case scenarios.IdentifyAuto:
		id.headers = scenarios.AutoIdentifyHeaders
	}
	return id
}

// needsBody reports whether identity is read from the body, the only case
// in which the probe reads more of a body than it must.
func (id *identifier) needsBody() bool { return id.spec.Kind == scenarios.IdentifyBody }

// cookieName is the cookie whose value identifies the backend: the named
// one, or in auto mode the affinity token once it is known.
func (id *identifier) cookieName(tokenName string) string {
	switch id.spec.Kind {
	case scenarios.IdentifyCookie:
		return id.spec.Name
	case scenarios.IdentifyAuto:
		return tokenName
	}
	return ""
}

// backend returns the identity of the backend that served a response, or
// "" when the response does not say. For cookie identity the value the
// response set wins; without one, the value the request sent is taken as
// honoured, which is what an LB in `insert indirect` mode implies (it sets
// the cookie again whenever it sends the request elsewhere).
//
// A 5xx that names no backend by header is the LB's own error page as a
// rule (HAProxy's 503 when no server could answer): the cookie the
// request sent was not honoured by anyone, so it names nobody.
func (id *identifier) backend(status int, h http.Header, body []byte, set, sent string) string {
	for _, name := range id.headers {
		if v := h.Get(name); v != "" {
			if id.spec.Kind == scenarios.IdentifyAuto && !id.byHeader.Load() {
				id.byHeader.Store(true)
			}
			return v
		}
	}
	switch id.spec.Kind {
	case scenarios.IdentifyBody:
		m := id.spec.Pattern.FindSubmatch(body)
		switch {
		case m == nil:
			return ""
		case len(m) > 1:
			return string(m[1])
		}
		return string(m[0])
	case scenarios.IdentifyCookie, scenarios.IdentifyAuto:
		if id.spec.Kind == scenarios.IdentifyAuto && id.byHeader.Load() {
			return ""
		}
		v := set
		if v == "" && status < 500 {
			v = sent
		}
		return serverFromCookie(v)
	}
	return ""
}

// serverFromCookie strips what an LB in HAProxy's `prefix` mode (or any LB
// that appends its own part) adds after `~`, leaving the server's value.
func serverFromCookie(v string) string {
	if i := strings.IndexByte(v, '~'); i >= 0 {
		return v[:i]
	}
	return v
}
