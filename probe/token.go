package probe

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
)

// wellKnownTokens are cookie names load balancers use for affinity. When
// the token is learned (--token auto) and a response sets several cookies,
// one of these wins over an application's own cookies.
var wellKnownTokens = []string{
	"SERVERID", "SERVER", "SRV", "SRVNAME", "ROUTEID", "route", "sticky", "lb",
	"INGRESSCOOKIE", "AWSALB", "AWSALBCORS", "AWSELB", "GCLB", "__cflb",
	"ARRAffinity", "ApplicationGatewayAffinity",
}

// wellKnownTokenPrefixes catch per-pool names (F5's BIGipServer<pool>,
// Citrix's NSC_<vserver>).
var wellKnownTokenPrefixes = []string{"BIGipServer", "NSC_"}

// setCookieName returns the name in a raw Set-Cookie line, "" if there is none.
func setCookieName(line string) string {
	name, _, ok := strings.Cut(line, "=")
	if !ok {
		return ""
	}
	return strings.TrimSpace(name)
}

// learnTokenName picks the affinity cookie from the Set-Cookie lines of a
// response: a well-known LB cookie if present, else the first cookie.
func learnTokenName(lines []string) string {
	first := ""
	for _, line := range lines {
		name := setCookieName(line)
		if name == "" {
			continue
		}
		if first == "" {
			first = name
		}
		for _, w := range wellKnownTokens {
			if strings.EqualFold(name, w) {
				return name
			}
		}
		for _, p := range wellKnownTokenPrefixes {
			if strings.HasPrefix(name, p) {
				return name
			}
		}
	}
	return first
}

// tokenSetting is what one response did to the token.
type tokenSetting struct {
	cookie  *http.Cookie // the token as set, nil when not set (or deleted)
	deleted bool         // the response expired the token
	refused Refusal      // set by the response, but the line is unusable
}

// inspectSetCookie finds the token among a response's Set-Cookie lines. The
// last line for the name wins, as in a browser.
func inspectSetCookie(lines []string, name string, now time.Time) tokenSetting {
	var ts tokenSetting
	if name == "" {
		return ts
	}
	for _, line := range lines {
		if setCookieName(line) != name {
			continue
		}
		c, err := http.ParseSetCookie(line)
		if err != nil {
			ts = tokenSetting{refused: RefusedInvalid}
			continue
		}
		// Max-Age takes precedence over Expires (RFC 6265 5.3, cookiejar).
		expired := c.MaxAge < 0 || (c.MaxAge == 0 && !c.Expires.IsZero() && !c.Expires.After(now))
		switch {
		case expired && c.Value == "":
			ts = tokenSetting{deleted: true}
		case expired:
			// A value with an expiry in the past: the LB meant to pin but
			// the browser drops it at once (clock skew, a bad maxlife).
			ts = tokenSetting{refused: RefusedExpired}
		default:
			ts = tokenSetting{cookie: c}
		}
	}
	return ts
}

// cookieSource is the sending half of http.CookieJar: a *cookiejar.Jar,
// or a session's jar.
type cookieSource interface {
	Cookies(u *url.URL) []*http.Cookie
}

// jarSends reports whether the jar will send name=value back to u.
func jarSends(jar cookieSource, u *url.URL, name, value string) bool {
	for _, c := range jar.Cookies(u) {
		if c.Name == name && c.Value == value {
			return true
		}
	}
	return false
}

// refusalReason explains why a jar will not send back cookie c, set by a
// response from u. It follows the order of checks of RFC 6265 section 5.3
// and of net/http/cookiejar, so the first rule that fails is named.
func refusalReason(c *http.Cookie, u *url.URL) Refusal {
	host := strings.ToLower(u.Hostname())
	if r := refusalDomain(c, u); r != "" {
		return r
	}
	if c.Secure && u.Scheme != "https" && !secureOrigin(host) {
		return RefusedSecure
	}
	if c.Path != "" && !pathMatch(u.EscapedPath(), c.Path) {
		return RefusedPath
	}
	return RefusedInvalid
}

// refusalDomain is why cookiejar refuses c's Domain attribute for u's
// host (RFC 6265 5.3 steps 5 and 6), "" when it does not.
func refusalDomain(c *http.Cookie, u *url.URL) Refusal {
	if c.Domain == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	domain := strings.ToLower(strings.TrimPrefix(c.Domain, "."))
	if net.ParseIP(host) != nil {
		// cookiejar does not strip a leading dot for an IP host.
		if strings.ToLower(c.Domain) != host {
			return RefusedDomain
		}
		return ""
	}
	if ps, _ := publicsuffix.PublicSuffix(domain); ps == domain && host != domain {
		return RefusedPublicSuffix
	}
	if host != domain && !strings.HasSuffix(host, "."+domain) {
		return RefusedDomain
	}
	return ""
}

// secureOrigin mirrors browsers and net/http/cookiejar: localhost and
// loopback addresses count as secure even over plain http. That is why a
// test of Secure cookies needs a real host name.
func secureOrigin(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// pathMatch is RFC 6265 section 5.1.4 path-match.
func pathMatch(reqPath, cookiePath string) bool {
	if reqPath == "" {
		reqPath = "/"
	}
	if !strings.HasPrefix(reqPath, cookiePath) {
		return false
	}
	return len(reqPath) == len(cookiePath) || strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/'
}
