package hacheck

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/report"
)

// backendChecks run on every backend and listen section.
var backendChecks = []func(*backendView, Options) []Finding{
	checkCookieTCP, checkServerCookies, checkNoPersistence, checkSecure, checkDomain,
	checkSameSite, checkPostonly, checkCookieLifetime, checkIgnorePersist, checkNocache,
	checkStickTables, checkHashing, checkRedispatch, checkAppsession,
}

func checkCookieTCP(b *backendView, _ Options) []Finding {
	if b.cookie == nil || b.mode == "http" {
		return nil
	}
	f := b.finding("cookie-in-tcp-mode", SevWarning, b.cookie.line)
	f.Cause = report.CauseNoToken
	f.Problem = fmt.Sprintf("%s has `cookie %s` but runs in mode %s: HAProxy ignores the cookie (haproxy -c only warns), so nothing pins a user", f.Section, b.cookie.name, b.mode)
	f.Fix = "use `mode http` in this backend and its frontend, or pin TCP traffic with `balance source` or `stick on src`"
	return []Finding{f}
}

// httpCookie is the backend's cookie when HAProxy applies it.
func (b *backendView) httpCookie() *cookieSpec {
	if b.mode != "http" {
		return nil
	}
	return b.cookie
}

func checkServerCookies(b *backendView, _ Options) []Finding {
	c := b.httpCookie()
	if c == nil || len(b.servers) == 0 {
		return nil
	}
	if c.dynamic {
		if _, ok := b.sec.Lookup("dynamic-cookie-key"); ok {
			return nil
		}
		f := b.finding("dynamic-without-key", SevError, c.line)
		f.Cause = report.CauseNoToken
		f.Problem = fmt.Sprintf("%s has `cookie %s ... dynamic` but no `dynamic-cookie-key`: measured on HAProxy 2.6, the cookie is then expired on every response, so nothing pins", f.Section, c.name)
		f.Fix = "add `dynamic-cookie-key <secret>` to the backend (the same on every LB node)"
		return []Finding{f}
	}
	var missing []server
	for _, s := range b.servers {
		if s.cookie == "" {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	f := b.finding("server-without-cookie", SevError, missing[0].line)
	f.EndLine = missing[len(missing)-1].line.Num
	for _, s := range missing {
		f.Servers = append(f.Servers, s.name)
	}
	f.Cause = report.CauseNoToken
	f.Problem = fmt.Sprintf("servers %s of %s have no `cookie` value: measured on HAProxy 2.6, their users get the %s cookie expired on every response (haproxy -c says nothing), so they are never pinned",
		serverRange(f.Servers), f.Section, c.name)
	f.Fix = "give each `server` line its own `cookie <value>` (e.g. `cookie " + missing[0].name + "`), or add `dynamic` and `dynamic-cookie-key` to the cookie line"
	return []Finding{f}
}

// serverRange is "api1..api3" for a run of names, else the names.
func serverRange(names []string) string {
	if len(names) > 2 {
		return names[0] + ".." + names[len(names)-1]
	}
	return strings.Join(names, ", ")
}

func checkNoPersistence(b *backendView, _ Options) []Finding {
	active := 0
	for _, s := range b.servers {
		if !s.backup {
			active++
		}
	}
	if len(b.routes) == 0 || active < 2 || b.cookie != nil || len(b.sticks) > 0 || hashAlgos[b.balanceAlgo()] {
		return nil
	}
	f := b.finding("no-persistence", SevWarning, b.where())
	f.Cause = report.CauseNoToken
	var via []string
	for _, r := range b.routes {
		via = append(via, r.String())
	}
	f.Problem = fmt.Sprintf("%s (balance %s, %d servers) has no cookie and no stick rule: nothing keeps a user on one server. Users reach it from %s",
		f.Section, b.balanceAlgo(), active, strings.Join(via, ", "))
	f.Fix = "add `cookie SERVERID insert indirect nocache` and `cookie <value>` on each server (or `stick on` a key users keep); silence this id if the backend is stateless"
	return []Finding{f}
}

func checkSecure(b *backendView, _ Options) []Finding {
	c := b.httpCookie()
	if c == nil || !c.secure || len(b.routes) == 0 {
		return nil
	}
	var plain []string
	for _, r := range b.routes {
		if r.tls() {
			return nil
		}
		plain = append(plain, r.String())
	}
	f := b.finding("secure-without-ssl", SevError, c.line)
	f.Cause = report.CauseTokenRefused
	f.Problem = fmt.Sprintf("the %s cookie is `secure` but no bind that routes to %s has `ssl` (%s): browsers never send it back over plain HTTP (refusal secure-over-http)",
		c.name, f.Section, strings.Join(plain, ", "))
	f.Fix = "serve this backend through a `bind ... ssl crt ...`, or drop `secure` if TLS ends in front of HAProxy and users only ever use https"
	return []Finding{f}
}

func checkDomain(b *backendView, opts Options) []Finding {
	c := b.httpCookie()
	if c == nil || len(c.domains) == 0 || opts.URL == nil {
		return nil
	}
	host := strings.ToLower(opts.URL.Hostname())
	if opts.Host != "" {
		host = strings.ToLower((&url.URL{Host: opts.Host}).Hostname())
	}
	for _, d := range c.domains {
		if domainMatch(host, d) {
			return nil
		}
	}
	f := b.finding("domain-mismatch", SevError, c.line)
	f.Cause = report.CauseTokenRefused
	f.Problem = fmt.Sprintf("the %s cookie's domain %s does not domain-match %s, the host being probed: the client refuses the cookie (refusal domain)",
		c.name, strings.Join(c.domains, ", "), host)
	f.Fix = "set `domain` to the host users open or a parent of it (e.g. `domain ." + parentDomain(host) + "`), or drop it"
	return []Finding{f}
}

// domainMatch is RFC 6265 5.1.3 with the leading dot of a Domain
// attribute ignored.
func domainMatch(host, domain string) bool {
	d := strings.ToLower(strings.TrimPrefix(domain, "."))
	return d != "" && (host == d || strings.HasSuffix(host, "."+d))
}

func parentDomain(host string) string {
	if _, rest, ok := strings.Cut(host, "."); ok && strings.Contains(rest, ".") {
		return rest
	}
	return host
}

func checkSameSite(b *backendView, _ Options) []Finding {
	c := b.httpCookie()
	if c == nil || c.secure {
		return nil
	}
	for _, a := range c.attrs {
		if strings.EqualFold(strings.ReplaceAll(a, " ", ""), "SameSite=None") {
			f := b.finding("samesite-none-without-secure", SevWarning, c.line)
			f.Cause = report.CauseTokenRefused
			f.Problem = fmt.Sprintf("the %s cookie has `attr \"SameSite=None\"` without `secure`: HAProxy sends it as written (measured on 2.6, haproxy -c says nothing) and browsers refuse such a cookie, as the probe's default jar does (refusal samesite-none-insecure)", c.name)
			f.Fix = "add `secure` (and serve over https), or use SameSite=Lax"
			return []Finding{f}
		}
	}
	return nil
}

func checkPostonly(b *backendView, _ Options) []Finding {
	c := b.httpCookie()
	if c == nil || !c.postonly {
		return nil
	}
	f := b.finding("postonly", SevWarning, c.line)
	f.Cause = report.CauseNoToken
	f.Problem = fmt.Sprintf("the %s cookie is `postonly`: measured on HAProxy 2.6, it is set on POST responses only, so a user who only sends GETs is never pinned", c.name)
	f.Fix = "drop `postonly` (keep `nocache`) unless nothing before the first POST needs persistence"
	return []Finding{f}
}

func checkCookieLifetime(b *backendView, opts Options) []Finding {
	c := b.httpCookie()
	if c == nil || opts.Think <= 0 {
		return nil
	}
	var out []Finding
	for _, lim := range []struct {
		name string
		set  bool
		d    time.Duration
	}{{"maxidle", c.maxidleAt, c.maxidle}, {"maxlife", c.maxlifeAt, c.maxlife}} {
		if !lim.set || lim.d >= opts.Think {
			continue
		}
		f := b.finding("cookie-"+lim.name+"-short", SevWarning, c.line)
		f.Cause = report.CauseTokenReassigned
		f.Problem = fmt.Sprintf("the %s cookie's %s %v is shorter than the %v between two requests of a user: measured on HAProxy 2.6, an expired cookie is ignored and the user balanced again with a new one", c.name, lim.name, lim.d, opts.Think)
		f.Fix = "raise `" + lim.name + "` above the longest pause of a real user (minutes, not seconds)"
		out = append(out, f)
	}
	return out
}

func checkIgnorePersist(b *backendView, _ Options) []Finding {
	var out []Finding
	for _, l := range b.sec.All("ignore-persist") {
		f := b.finding("ignore-persist", SevInfo, l)
		f.Cause = report.CauseTokenIgnored
		f.Problem = fmt.Sprintf("`%s`: requests it matches are balanced whatever cookie they carry and get none (measured on HAProxy 2.6: matching some requests of a user, token-ignored; matching all, no-token)", strings.Join(l.Args, " "))
		f.Fix = "make sure the condition only matches requests that need no server (static files)"
		out = append(out, f)
	}
	return out
}

func checkNocache(b *backendView, _ Options) []Finding {
	c := b.httpCookie()
	if c == nil || c.mode != "insert" || c.nocache || c.postonly {
		return nil
	}
	f := b.finding("nocache-missing", SevWarning, c.line)
	f.Problem = fmt.Sprintf("the %s cookie is inserted without `nocache`: measured on HAProxy 2.6, a cacheable response then keeps its Set-Cookie and stays cacheable (with nocache HAProxy adds `Cache-Control: private`), so a cache between users and HAProxy can hand one user's cookie to everyone and pin them all to one server", c.name)
	f.Fix = "add `nocache` to the cookie line"
	return []Finding{f}
}

func checkAppsession(b *backendView, _ Options) []Finding {
	var out []Finding
	for _, l := range b.sec.All("appsession") {
		f := b.finding("appsession", SevError, l)
		f.Cause = report.CauseNoToken
		f.Problem = "`appsession` was removed in HAProxy 1.6: HAProxy 2.6 refuses the config (measured)"
		f.Fix = "use a stick table: `stick-table type string len 64 size 1m expire 30m`, `stick store-response res.cook(NAME)`, `stick match req.cook(NAME)`"
		out = append(out, f)
	}
	return out
}
