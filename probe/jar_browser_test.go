package probe

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// tokenRunner is a runner that tracks the cookie SERVERID with jar mode
// mode, enough for observeToken.
func tokenRunner(mode JarMode) *Runner {
	r := &Runner{now: time.Now, browser: Browser{Jar: mode}}
	r.spec.Token = scenarios.Token{Kind: scenarios.TokenCookie, Name: "SERVERID"}
	name := "SERVERID"
	r.tokenName.Store(&name)
	return r
}

// answer plays one response from rawURL setting lines into session s and
// returns what the probe recorded about the token.
func answer(t *testing.T, r *Runner, s *session, rawURL string, lines ...string) Event {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Set-Cookie": lines}, Request: &http.Request{URL: u}}
	ev := Event{TokenName: "SERVERID"}
	r.observeToken(s, &ev, resp)
	return ev
}

// TestBrowserJarRules: each rule the browser jar adds to RFC 6265, with
// its source, refuses under --jar browser what --jar rfc6265 keeps, and
// keeps what the rule allows.
func TestBrowserJarRules(t *testing.T) {
	big := func(n int) string { return "SERVERID=" + strings.Repeat("v", n-len("SERVERID")) }
	tests := []struct {
		source  string // where the rule is written
		url     string
		line    string
		browser Refusal // "" kept
		rfc     Refusal
	}{
		// rfc6265bis, Storage Model: "If the cookie's same-site-flag is "None", abort
		// these steps and ignore the cookie entirely unless the cookie's secure-only-flag is
		// true." Chrome enforces it since version 80; Mozilla announced the same
		// ("Changes to SameSite Cookie Behavior", hacks.mozilla.org, 2020).
		{"rfc6265bis Storage Model SameSite=None needs Secure", "http://lab.example/", "SERVERID=s1; path=/; SameSite=None", RefusedSameSiteNone, ""},
		{"rfc6265bis Storage Model SameSite=None with Secure", "https://lab.example/", "SERVERID=s1; path=/; SameSite=None; Secure", "", ""},
		{"SameSite=Lax is not concerned", "http://lab.example/", "SERVERID=s1; SameSite=Lax", "", ""},
		// rfc6265bis Storage Model: "__Secure-" names need the secure-only-flag; matched
		// case-insensitively since draft 12.
		{"rfc6265bis Storage Model __Secure- without Secure", "https://lab.example/", "__Secure-SERVERID=s1", "", ""},
		// rfc6265bis Storage Model: __Host- needs Secure, no Domain attribute, Path=/.
		{"rfc6265bis Storage Model __Host- complete", "https://lab.example/", "__Host-A=1; Secure; Path=/", "", ""},
		// rfc6265bis Set-Cookie parsing: "If the sum of the lengths of the name string and the value string is
		// more than 4096 octets, abort these steps and ignore the set-cookie-string entirely."
		{"rfc6265bis Set-Cookie parsing name+value of 4096 bytes", "http://lab.example/", big(4096), "", ""},
		{"rfc6265bis Set-Cookie parsing name+value of 4097 bytes", "http://lab.example/", big(4097), RefusedTooLarge, ""},
		// rfc6265bis Storage Model: a Secure cookie from a scheme that is not secure is ignored;
		// net/http/cookiejar stores it but never sends it over http.
		{"rfc6265bis Storage Model Secure over http", "http://lab.example/", "SERVERID=s1; Secure", RefusedSecure, RefusedSecure},
		// Browsers treat localhost and loopback addresses as secure contexts (W3C Secure
		// Contexts 3.1, "potentially trustworthy"): the cookie is kept there.
		{"secure contexts: 127.0.0.1", "http://127.0.0.1:8080/", "SERVERID=s1; Secure", "", ""},
		{"secure contexts: localhost", "http://localhost:8080/", "SERVERID=s1; Secure", "", ""},
		{"secure contexts: ::1", "http://[::1]:8080/", "SERVERID=s1; Secure; SameSite=None", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			for mode, want := range map[JarMode]Refusal{JarBrowser: tt.browser, JarRFC6265: tt.rfc} {
				r := tokenRunner(mode)
				s := newSession(0, false, 0, nil)
				ev := answer(t, r, s, tt.url, tt.line)
				if ev.TokenRefused != want {
					t.Errorf("--jar %s: refused %q, want %q", mode, ev.TokenRefused, want)
				}
				if held := want == "" && ev.TokenSet != ""; held != s.held {
					t.Errorf("--jar %s: held = %v with refusal %q", mode, s.held, ev.TokenRefused)
				}
			}
		})
	}
}

// TestBrowserJarPrefixes: the prefix rules apply to the token's name as
// to any cookie: a refused __Host- or __Secure- token is named.
func TestBrowserJarPrefixes(t *testing.T) {
	tests := []struct {
		line string
		want Refusal
	}{
		{"__Secure-ID=1", RefusedSecurePrefix},
		{"__secure-ID=1", RefusedSecurePrefix}, // case-insensitive, rfc6265bis-12 on
		{"__Secure-ID=1; Secure", ""},
		{"__Host-ID=1; Path=/", RefusedHostPrefix},                             // no Secure
		{"__Host-ID=1; Secure", RefusedHostPrefix},                             // no Path attribute
		{"__Host-ID=1; Secure; Path=/app", RefusedHostPrefix},                  // Path not /
		{"__Host-ID=1; Secure; Path=/; Domain=lab.example", RefusedHostPrefix}, // a Domain attribute
		{"__HOST-ID=1; Secure; Path=/; Domain=lab.example", RefusedHostPrefix},
		{"__Host-ID=1; Secure; Path=/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			name, _, _ := strings.Cut(tt.line, "=")
			r := tokenRunner(JarBrowser)
			r.tokenName.Store(&name)
			s := newSession(0, false, 0, nil)
			u, _ := url.Parse("https://lab.example/app/x")
			resp := &http.Response{StatusCode: 200, Header: http.Header{"Set-Cookie": {tt.line}}, Request: &http.Request{URL: u}}
			ev := Event{TokenName: name}
			r.observeToken(s, &ev, resp)
			if ev.TokenRefused != tt.want {
				t.Errorf("refused %q, want %q", ev.TokenRefused, tt.want)
			}
			sent := jarSends(&s.jar, u, name, "1")
			if sent != (tt.want == "") {
				t.Errorf("jar sends it: %v, want %v", sent, tt.want == "")
			}
			// RFC 6265 knows no prefixes: the same line is kept.
			rfc := tokenRunner(JarRFC6265)
			rs := newSession(0, false, 0, nil)
			rfc.observeToken(rs, &Event{TokenName: name}, resp)
			if !jarSends(&rs.jar, u, name, "1") {
				t.Error("--jar rfc6265 refused it")
			}
		})
	}
}

// appCookies are n Set-Cookie lines of an application's own cookies.
func appCookies(n int) []string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf("APP%03d=x; Path=/", i)
	}
	return lines
}

// TestBrowserJarDomainLimit: Chrome keeps at most 180 cookies per
// registrable domain (net/cookies/cookie_monster.cc kDomainMaxCookies =
// 180) and, past it, purges the oldest down to 150 (kDomainPurgeCookies =
// 30). The LB's cookie, set first, is the first to go; RFC 6265 sets no
// limit and net/http/cookiejar keeps it.
func TestBrowserJarDomainLimit(t *testing.T) {
	const site = "http://www.lab.example/"
	u, _ := url.Parse(site)
	for _, tt := range []struct {
		app     int // application cookies set after the token
		mode    JarMode
		sent    bool // the token is still sent
		cookies int  // cookies the jar sends afterwards
	}{
		{app: 179, mode: JarBrowser, sent: true, cookies: 180},
		{app: 180, mode: JarBrowser, sent: false, cookies: 150},
		{app: 180, mode: JarRFC6265, sent: true, cookies: 181},
	} {
		t.Run(fmt.Sprintf("%s/%d", tt.mode, tt.app), func(t *testing.T) {
			r := tokenRunner(tt.mode)
			s := newSession(0, false, 0, &jarShared{horizon: time.Now().Add(time.Hour)})
			if ev := answer(t, r, s, site, "SERVERID=s1; path=/"); !s.held || ev.TokenRefused != "" {
				t.Fatalf("token not held: %+v", ev)
			}
			// Ten responses, as an application sets its cookies over a
			// few pages.
			lines := appCookies(tt.app)
			for len(lines) > 0 {
				n := min(len(lines), 18)
				answer(t, r, s, site, lines[:n]...)
				lines = lines[n:]
			}
			if got := jarSends(&s.jar, u, "SERVERID", "s1"); got != tt.sent {
				t.Errorf("token sent: %v, want %v", got, tt.sent)
			}
			if got := len(s.jar.Cookies(u)); got != tt.cookies {
				t.Errorf("the jar sends %d cookies, want %d", got, tt.cookies)
			}
		})
	}
}

// TestBrowserJarEvictsInOneResponse: a response whose own cookies push its
// LB cookie out names the refusal: evicted.
func TestBrowserJarEvictsInOneResponse(t *testing.T) {
	r := tokenRunner(JarBrowser)
	s := newSession(0, false, 0, nil)
	ev := answer(t, r, s, "http://www.lab.example/", append([]string{"SERVERID=s1; path=/"}, appCookies(180)...)...)
	if ev.TokenRefused != RefusedEvicted {
		t.Errorf("refused %q, want %q", ev.TokenRefused, RefusedEvicted)
	}
	// Another registrable domain has its own count.
	other := answer(t, r, s, "http://other.example/", "SERVERID=s2; path=/")
	if other.TokenRefused != "" {
		t.Errorf("other domain: refused %q", other.TokenRefused)
	}
}

// TestTooManySetCookies: net/http reads no cookie at all of a response
// with more than 3,000 Set-Cookie lines; the refusal says so, in both
// modes, instead of blaming the token's attributes.
func TestTooManySetCookies(t *testing.T) {
	lines := append(appCookies(3000), "SERVERID=s1; path=/")
	for _, mode := range []JarMode{JarBrowser, JarRFC6265} {
		r := tokenRunner(mode)
		s := newSession(0, false, 0, nil)
		ev := answer(t, r, s, "http://lab.example/", lines...)
		if ev.TokenRefused != RefusedTooMany || s.held {
			t.Errorf("--jar %s: refused %q, held %v; want %q", mode, ev.TokenRefused, s.held, RefusedTooMany)
		}
	}
	// 3,000 are read: the token is kept (by the RFC 6265 jar; a browser
	// would keep only the last 150 of one domain).
	r := tokenRunner(JarRFC6265)
	s := newSession(0, false, 0, nil)
	if ev := answer(t, r, s, "http://lab.example/", append(appCookies(2999), "SERVERID=s1; path=/")...); ev.TokenRefused != "" {
		t.Errorf("3,000 lines: refused %q", ev.TokenRefused)
	}
}

func TestParseJarMode(t *testing.T) {
	for in, want := range map[string]JarMode{"": JarBrowser, "browser": JarBrowser, "RFC6265": JarRFC6265} {
		if got, err := ParseJarMode(in); err != nil || got != want {
			t.Errorf("ParseJarMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseJarMode("chrome"); err == nil || !strings.Contains(err.Error(), "--jar") {
		t.Errorf("ParseJarMode(chrome): %v, want an error naming --jar", err)
	}
}

// TestFilterBrowserKeepsPlainLines: the usual LB line is not parsed twice
// and the slice comes back as it was.
func TestFilterBrowserKeepsPlainLines(t *testing.T) {
	u, _ := url.Parse("http://lab.example/")
	lines := []string{"SERVERID=s1; path=/", "JSESSIONID=abc; HttpOnly"}
	got, dropped := filterBrowser(u, lines)
	if dropped || &got[0] != &lines[0] {
		t.Errorf("filterBrowser changed plain lines: %q, %v", got, dropped)
	}
	got, dropped = filterBrowser(u, []string{"A=1", "B=2; SameSite=None", "C=3"})
	if !dropped || strings.Join(got, "|") != "A=1|C=3" {
		t.Errorf("filterBrowser = %q, %v", got, dropped)
	}
	if allocs := testing.AllocsPerRun(100, func() { filterBrowser(u, lines) }); allocs != 0 {
		t.Errorf("%v allocations for plain lines", allocs)
	}
}

// FuzzBrowserJar: whatever the line and the URL, the browser jar never
// sends back a cookie one of its rules refuses, names that rule when the
// cookie was the token, and otherwise sends what the RFC 6265 jar sends.
func FuzzBrowserJar(f *testing.F) {
	for _, line := range []string{
		"SERVERID=s1; path=/; SameSite=None", "SERVERID=s1; SameSite=None; Secure", "__Host-SERVERID=s1; Secure; Path=/",
		"__Secure-SERVERID=s1", "SERVERID=s1; Secure", "SERVERID=s1; Domain=example.com; Path=/a",
	} {
		f.Add(line, "http://www.example.com/a/b")
		f.Add(line, "https://127.0.0.1/")
	}
	f.Fuzz(func(t *testing.T, line, rawURL string) {
		u, err := url.Parse(rawURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return
		}
		c, err := http.ParseSetCookie(line)
		if err != nil || c.Name != "SERVERID" && !strings.HasPrefix(strings.ToLower(c.Name), "__") {
			return
		}
		resp := &http.Response{StatusCode: 200, Header: http.Header{"Set-Cookie": {line}}, Request: &http.Request{URL: u}}
		sends := map[JarMode]bool{}
		for _, mode := range []JarMode{JarBrowser, JarRFC6265} {
			r := tokenRunner(mode)
			r.tokenName.Store(&c.Name)
			s := newSession(0, false, 0, nil)
			ev := Event{TokenName: c.Name}
			r.observeToken(s, &ev, resp)
			sends[mode] = jarSends(&s.jar, u, c.Name, c.Value)
			if mode == JarBrowser && browserRefusal(c, u) != "" {
				if sends[mode] {
					t.Fatalf("the browser jar sends %q, which %s refuses", line, browserRefusal(c, u))
				}
				if ev.TokenSet != "" && ev.TokenRefused == "" {
					t.Fatalf("refused %q without a reason", line)
				}
			}
		}
		if browserRefusal(c, u) == "" && sends[JarBrowser] != sends[JarRFC6265] {
			t.Fatalf("%q on %s: browser sends %v, rfc6265 %v, with no browser rule against it", line, u, sends[JarBrowser], sends[JarRFC6265])
		}
	})
}
