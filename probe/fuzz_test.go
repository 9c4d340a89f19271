package probe

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
	"golang.org/x/net/publicsuffix"
)

// FuzzSetCookie feeds arbitrary Set-Cookie lines through everything the
// probe does with a response's cookies: learning the token name, reading
// what the response did to it, storing it in a jar and explaining a
// refusal. None of it may panic, and the outcome must be consistent.
func FuzzSetCookie(f *testing.F) {
	for _, line := range []string{
		"SERVERID=s1; path=/",
		"SERVERID=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/",
		"SERVERID=s2; path=/; domain=.example.org",
		"SERVERID=s2; path=/; Secure",
		"SERVERID=s1~abc; Max-Age=-1",
		"SERVERID=s1; Path=/app; Domain=co.uk",
		"JSESSIONID=x; HttpOnly",
		"=novalue",
		"SERVERID",
		"SERVERID=\x00; Domain=..",
	} {
		f.Add(line, "http://lab.stickyprobe.test:8080/")
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, line, rawURL string) {
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			u, _ = url.Parse("http://lab.stickyprobe.test/")
		}
		lines := []string{line}
		name := learnTokenName(lines)
		if name != "" && name != setCookieName(line) {
			t.Fatalf("learned %q from a line naming %q", name, setCookieName(line))
		}
		ts := inspectSetCookie(lines, name, now)
		n := 0
		for _, b := range []bool{ts.cookie != nil, ts.deleted, ts.refused != ""} {
			if b {
				n++
			}
		}
		if name != "" && n > 1 {
			t.Fatalf("outcome not exclusive: %+v", ts)
		}
		if ts.cookie == nil {
			return
		}
		jar, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
		h := http.Header{"Set-Cookie": lines}
		jar.SetCookies(u, (&http.Response{Header: h}).Cookies())
		if !jarSends(jar, u, name, ts.cookie.Value) {
			if r := refusalReason(ts.cookie, u); r == "" {
				t.Fatalf("refused without a reason: %q on %s", line, u)
			}
		}
		_ = newIdentifier(scenarios.Identify{Kind: scenarios.IdentifyAuto}).backend(200, h, nil, ts.cookie.Value, "")
	})
}
