package probe

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
)

// JarMode says whose rules a session's cookie jar follows.
//
// The users behind a load balancer are browsers, and browsers refuse
// cookies RFC 6265 accepts: an LB's cookie a browser drops pins nobody,
// however well the LB behaves towards an RFC 6265 client. So the jar is a
// browser's by default; rfc6265 is net/http/cookiejar alone, as API
// clients (curl, Go, Python requests) keep cookies.
type JarMode string

const (
	// JarBrowser adds to RFC 6265 what current Chrome and Firefox
	// enforce, each rule from the cookie draft that replaces it
	// (draft-ietf-httpbis-rfc6265bis, its sections "The Set-Cookie Header
	// Field" and "Storage Model"), or from Chrome's cookie store where the
	// draft leaves a limit to the user agent:
	//   - a cookie whose name and value together exceed 4096 bytes is
	//     ignored;
	//   - a Secure cookie from an origin that is not secure is ignored
	//     (plain http; localhost and loopback addresses count as secure,
	//     as browsers treat them as secure contexts);
	//   - SameSite=None without Secure is ignored;
	//   - a name starting __Secure- needs Secure (and so a secure
	//     origin); one starting __Host- also needs Path=/ and no Domain
	//     attribute (both prefixes matched without regard to case, as
	//     the draft has said since -12);
	//   - at most 180 cookies per registrable domain (Chrome's
	//     kDomainMaxCookies): past it the oldest go until 150 remain
	//     (kDomainPurgeCookies = 30). Chrome orders them by last access,
	//     which for a probe's session, sending every cookie on every
	//     request, is the order they were created in.
	JarBrowser JarMode = "browser"
	// JarRFC6265 is net/http/cookiejar with the public suffix list.
	JarRFC6265 JarMode = "rfc6265"
)

// ParseJarMode reads --jar; "" is the default, browser.
func ParseJarMode(s string) (JarMode, error) {
	switch JarMode(strings.ToLower(strings.TrimSpace(s))) {
	case "", JarBrowser:
		return JarBrowser, nil
	case JarRFC6265:
		return JarRFC6265, nil
	}
	return "", fmt.Errorf("--jar %q: want browser (what Chrome and Firefox keep) or rfc6265 (what API clients keep)", s)
}

// Limits of the browser jar.
const (
	maxCookieNameValue = 4096 // rfc6265bis Set-Cookie parsing: name plus value, in bytes
	domainMaxCookies   = 180  // Chrome's kDomainMaxCookies
	domainPurgeCookies = 30   // Chrome's kDomainPurgeCookies: evicted beyond the limit
)

// Refusals only the browser jar makes.
const (
	RefusedTooLarge     Refusal = "too-large"              // name and value exceed 4096 bytes
	RefusedSameSiteNone Refusal = "samesite-none-insecure" // SameSite=None without Secure
	RefusedSecurePrefix Refusal = "secure-prefix"          // a __Secure- name without Secure on a secure origin
	RefusedHostPrefix   Refusal = "host-prefix"            // a __Host- name without Secure, Path=/, or with Domain
	RefusedEvicted      Refusal = "evicted"                // pushed out by the 180 cookies per domain
)

// browserRefusal is the rule of the browser jar, beyond RFC 6265, that
// refuses cookie c set by a response from u, "" if none does. The rules
// come in the order of rfc6265bis's storage model, so the first that
// fails is named.
func browserRefusal(c *http.Cookie, u *url.URL) Refusal {
	secure := u.Scheme == "https" || secureOrigin(strings.ToLower(u.Hostname()))
	switch {
	case len(c.Name)+len(c.Value) > maxCookieNameValue:
		return RefusedTooLarge
	case c.Secure && !secure:
		return RefusedSecure
	case c.SameSite == http.SameSiteNoneMode && !c.Secure:
		return RefusedSameSiteNone
	case hasPrefixFold(c.Name, "__Secure-") && !c.Secure:
		return RefusedSecurePrefix
	case hasPrefixFold(c.Name, "__Host-") && (!c.Secure || c.Domain != "" || c.Path != "/"):
		return RefusedHostPrefix
	}
	return ""
}

// browserMayRefuse is a cheap look at a raw Set-Cookie line: false when no
// browser rule can refuse it, which is every line without the words the
// rules are about (an LB's usual "SERVERID=s1; path=/").
func browserMayRefuse(line string) bool {
	return len(line) > maxCookieNameValue || containsFold(line, "secure") || containsFold(line, "samesite") ||
		containsFold(line, "__host-")
}

// filterBrowser returns the Set-Cookie lines a browser keeps, and whether
// it dropped any: lines itself when it keeps them all. A line that does
// not parse stays: net/http drops it anyway.
func filterBrowser(u *url.URL, lines []string) ([]string, bool) {
	var kept []string
	for i, line := range lines {
		refused := false
		if browserMayRefuse(line) {
			if c, err := http.ParseSetCookie(line); err == nil && browserRefusal(c, u) != "" {
				refused = true
			}
		}
		switch {
		case refused && kept == nil:
			kept = append(make([]string, 0, len(lines)-1), lines[:i]...)
		case !refused && kept != nil:
			kept = append(kept, line)
		}
	}
	if kept == nil {
		return lines, false
	}
	return kept, true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// containsFold reports whether s contains the lower-case ASCII word sub,
// ignoring case, without allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i]|0x20 == sub[0]|0x20 && strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// cookieKey is what identifies a stored cookie (RFC 6265 5.3 step 11:
// name, domain, path), with the URL it came from, through which it can be
// deleted again.
type cookieKey struct {
	u        *url.URL
	name     string
	domain   string // the Domain attribute, or the host for a host-only cookie
	path     string
	hostOnly bool
	group    string // the registrable domain the limit counts per
}

// cookieOrder is the browser jar's account of a live jar: the cookies it
// holds, oldest first, for the limit per domain. cookiejar.Jar keeps no
// count and no order, and cannot be asked for them.
type cookieOrder struct {
	keys []cookieKey
}

// add records that cookies from u were stored at now: a new cookie goes
// last, one that replaces a stored one keeps its place (the draft keeps
// the old creation time), one that deletes leaves.
func (o *cookieOrder) add(u *url.URL, cookies []*http.Cookie, now time.Time) {
	for _, c := range cookies {
		k, ok := keyOf(u, c)
		if !ok {
			continue
		}
		i := o.find(k)
		deletes := c.MaxAge < 0 || (c.MaxAge == 0 && !c.Expires.IsZero() && !c.Expires.After(now))
		switch {
		case deletes && i >= 0:
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
		case !deletes && i < 0:
			o.keys = append(o.keys, k)
		}
	}
}

func (o *cookieOrder) find(k cookieKey) int {
	for i, x := range o.keys {
		if x.name == k.name && x.domain == k.domain && x.path == k.path {
			return i
		}
	}
	return -1
}

// evict removes, from every registrable domain holding more than the
// limit, its oldest cookies until domainPurgeCookies fewer than the limit
// remain, and returns them.
func (o *cookieOrder) evict() []cookieKey {
	if len(o.keys) <= domainMaxCookies {
		return nil
	}
	count := make(map[string]int)
	for _, k := range o.keys {
		count[k.group]++
	}
	purge := make(map[string]int) // group: how many of its oldest go
	for g, n := range count {
		if n > domainMaxCookies {
			purge[g] = n - (domainMaxCookies - domainPurgeCookies)
		}
	}
	if len(purge) == 0 {
		return nil
	}
	var out []cookieKey
	kept := o.keys[:0]
	for _, k := range o.keys {
		if purge[k.group] > 0 {
			purge[k.group]--
			out = append(out, k)
			continue
		}
		kept = append(kept, k)
	}
	clear(o.keys[len(kept):])
	o.keys = kept
	return out
}

// keyOf is the key cookiejar files c under when u sets it; false when
// cookiejar would not store it (its Domain does not cover u's host).
func keyOf(u *url.URL, c *http.Cookie) (cookieKey, bool) {
	host := strings.ToLower(u.Hostname())
	k := cookieKey{u: u, name: c.Name, domain: host, path: c.Path, hostOnly: true}
	if c.Domain != "" {
		if refusalDomain(c, u) != "" {
			return k, false
		}
		k.domain, k.hostOnly = strings.ToLower(strings.TrimPrefix(c.Domain, ".")), false
	}
	if k.path == "" || k.path[0] != '/' {
		k.path = defaultPath(u.Path)
	}
	k.group = k.domain
	if g, err := publicsuffix.EffectiveTLDPlusOne(k.domain); err == nil {
		k.group = g
	}
	return k, true
}

// defaultPath is RFC 6265 5.1.4's default-path of a request path.
func defaultPath(p string) string {
	if p == "" || p[0] != '/' {
		return "/"
	}
	i := strings.LastIndex(p, "/")
	if i == 0 {
		return "/"
	}
	return p[:i]
}

// deletion is the Set-Cookie that removes k from a cookiejar.Jar.
func (k cookieKey) deletion() *http.Cookie {
	c := &http.Cookie{Name: k.name, Path: k.path, MaxAge: -1}
	if !k.hostOnly {
		c.Domain = k.domain
	}
	return c
}
