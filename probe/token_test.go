package probe

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"golang.org/x/net/publicsuffix"
)

// testNow is the fixed clock of the token tests.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func TestInspectSetCookie(t *testing.T) {
	past := testNow.Add(-time.Hour).Format(http.TimeFormat)
	future := testNow.Add(time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name        string
		lines       []string
		token       string
		wantValue   string // "" = no cookie
		wantDeleted bool
		wantRefused Refusal
	}{
		{name: "no lines", token: "SERVERID"},
		{name: "no token name", lines: []string{"SERVERID=s1"}, token: ""},
		{name: "set", lines: []string{"SERVERID=s1; path=/"}, token: "SERVERID", wantValue: "s1"},
		{name: "set quoted", lines: []string{`SERVERID="s1"`}, token: "SERVERID", wantValue: "s1"},
		{name: "set with future expiry", lines: []string{"SERVERID=s1; Expires=" + future}, token: "SERVERID", wantValue: "s1"},
		{name: "set with Max-Age", lines: []string{"SERVERID=s1; Max-Age=60"}, token: "SERVERID", wantValue: "s1"},
		{name: "Max-Age wins over a past Expires", lines: []string{"SERVERID=s1; Max-Age=60; Expires=" + past}, token: "SERVERID", wantValue: "s1"},
		{
			name:        "deleted as HAProxy 2.6 does without cookie values",
			lines:       []string{"SERVERID=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/"},
			token:       "SERVERID",
			wantDeleted: true,
		},
		{name: "deleted by Max-Age=0", lines: []string{"SERVERID=; Max-Age=0"}, token: "SERVERID", wantDeleted: true},
		{name: "expired with a value", lines: []string{"SERVERID=s1; Expires=" + past}, token: "SERVERID", wantRefused: RefusedExpired},
		{name: "Max-Age=-1 with a value", lines: []string{"SERVERID=s1; Max-Age=-1"}, token: "SERVERID", wantRefused: RefusedExpired},
		{name: "expiring exactly now", lines: []string{"SERVERID=s1; Expires=" + testNow.Format(http.TimeFormat)}, token: "SERVERID", wantRefused: RefusedExpired},
		{name: "invalid value", lines: []string{`SERVERID=a"b`}, token: "SERVERID", wantRefused: RefusedInvalid},
		{name: "invalid control byte", lines: []string{"SERVERID=a\x01b"}, token: "SERVERID", wantRefused: RefusedInvalid},
		{name: "last line wins: set twice", lines: []string{"SERVERID=s1", "SERVERID=s2"}, token: "SERVERID", wantValue: "s2"},
		{name: "last line wins: set then deleted", lines: []string{"SERVERID=s1", "SERVERID=; Max-Age=0"}, token: "SERVERID", wantDeleted: true},
		{name: "last line wins: deleted then set", lines: []string{"SERVERID=; Max-Age=0", "SERVERID=s3"}, token: "SERVERID", wantValue: "s3"},
		{name: "last line wins: invalid then set", lines: []string{`SERVERID=a"b`, "SERVERID=s1"}, token: "SERVERID", wantValue: "s1"},
		{name: "last line wins: set then invalid", lines: []string{"SERVERID=s1", `SERVERID=a"b`}, token: "SERVERID", wantRefused: RefusedInvalid},
		{name: "other cookies ignored", lines: []string{"JSESSIONID=x", "SERVERID=s1", "lang=en"}, token: "SERVERID", wantValue: "s1"},
		{name: "only other cookies", lines: []string{"JSESSIONID=x", `other=a"b`}, token: "SERVERID"},
		{name: "longer name is another cookie", lines: []string{"SERVERIDX=s1"}, token: "SERVERID"},
		{name: "names are case sensitive", lines: []string{"serverid=s1"}, token: "SERVERID"},
		{name: "line without equals", lines: []string{"SERVERID"}, token: "SERVERID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := inspectSetCookie(tt.lines, tt.token, testNow)
			gotValue := ""
			if got.cookie != nil {
				gotValue = got.cookie.Value
			}
			if gotValue != tt.wantValue || got.deleted != tt.wantDeleted || got.refused != tt.wantRefused {
				t.Errorf("inspectSetCookie(%q, %q) = value %q deleted %v refused %q; want %q %v %q",
					tt.lines, tt.token, gotValue, got.deleted, got.refused, tt.wantValue, tt.wantDeleted, tt.wantRefused)
			}
			if got.cookie != nil && (got.deleted || got.refused != "") {
				t.Errorf("inspectSetCookie(%q) both set a cookie and deleted/refused it: %+v", tt.lines, got)
			}
		})
	}
}

// jarVerdict stores the cookie of line, as set by a response from rawURL, in
// a real cookie jar like a session's, and reports whether the jar sends it
// back to the same URL and, when it does not, the reason the probe names.
func jarVerdict(t testing.TB, rawURL, line string) (sends bool, reason Refusal) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := http.ParseSetCookie(line)
	if err != nil {
		t.Fatalf("ParseSetCookie(%q): %v", line, err)
	}
	jar, err := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	if err != nil {
		t.Fatal(err)
	}
	jar.SetCookies(u, []*http.Cookie{c})
	if jarSends(jar, u, c.Name, c.Value) {
		return true, ""
	}
	return false, refusalReason(c, u)
}

func TestRefusalReason(t *testing.T) {
	tests := []struct {
		name      string
		url       string
		line      string
		wantSends bool
		want      Refusal
	}{
		{name: "host cookie", url: "http://app.test/", line: "SERVERID=s1", wantSends: true},
		{name: "host cookie on a port", url: "http://app.test:8080/x", line: "SERVERID=s1; Path=/", wantSends: true},
		{name: "domain matches host", url: "http://app.test/", line: "SERVERID=s1; Domain=app.test", wantSends: true},
		{name: "domain of a parent", url: "http://www.app.test/", line: "SERVERID=s1; Domain=.app.test", wantSends: true},
		{name: "domain upper case", url: "http://www.app.test/", line: "SERVERID=s1; Domain=APP.TEST", wantSends: true},
		{name: "domain mismatch", url: "http://app.test/", line: "SERVERID=s1; Domain=other.test", want: RefusedDomain},
		{name: "domain of a child", url: "http://app.test/", line: "SERVERID=s1; Domain=www.app.test", want: RefusedDomain},
		{name: "domain suffix without dot", url: "http://myapp.test/", line: "SERVERID=s1; Domain=app.test", want: RefusedDomain},
		{name: "domain with trailing dot", url: "http://app.test/", line: "SERVERID=s1; Domain=app.test.", want: RefusedDomain},
		{name: "domain is a TLD", url: "http://app.com/", line: "SERVERID=s1; Domain=com", want: RefusedPublicSuffix},
		{name: "domain is co.uk", url: "http://shop.co.uk/", line: "SERVERID=s1; Domain=.co.uk", want: RefusedPublicSuffix},
		{name: "public suffix equal to host is a host cookie", url: "http://co.uk/", line: "SERVERID=s1; Domain=co.uk", wantSends: true},
		{name: "domain on an IP host, other IP", url: "http://127.0.0.1:8080/", line: "SERVERID=s1; Domain=127.0.0.2", want: RefusedDomain},
		{name: "domain on an IP host, same IP", url: "http://127.0.0.1:8080/", line: "SERVERID=s1; Domain=127.0.0.1", wantSends: true},
		{name: "domain on an IP host, leading dot", url: "http://127.0.0.1:8080/", line: "SERVERID=s1; Domain=.127.0.0.1", want: RefusedDomain},
		{name: "secure over http on a real host name", url: "http://app.test/", line: "SERVERID=s1; Secure", want: RefusedSecure},
		{name: "secure over https", url: "https://app.test/", line: "SERVERID=s1; Secure", wantSends: true},
		// Go's cookiejar, like browsers, treats localhost and loopback as
		// secure origins: a test of Secure over 127.0.0.1 passes for the
		// wrong reason unless it uses a real host name.
		{name: "secure over http on 127.0.0.1 is sent", url: "http://127.0.0.1:8080/", line: "SERVERID=s1; Secure", wantSends: true},
		{name: "secure over http on localhost is sent", url: "http://localhost:8080/", line: "SERVERID=s1; Secure", wantSends: true},
		{name: "secure over http on ::1 is sent", url: "http://[::1]:8080/", line: "SERVERID=s1; Secure", wantSends: true},
		{name: "secure over http on a .localhost name is sent", url: "http://app.localhost/", line: "SERVERID=s1; Secure", wantSends: true},
		{name: "path narrower than the URL", url: "http://app.test/", line: "SERVERID=s1; Path=/app", want: RefusedPath},
		{name: "path a sibling", url: "http://app.test/application", line: "SERVERID=s1; Path=/app", want: RefusedPath},
		{name: "path covering the URL", url: "http://app.test/app/x", line: "SERVERID=s1; Path=/app", wantSends: true},
		{name: "domain checked before secure", url: "http://app.test/", line: "SERVERID=s1; Domain=other.test; Secure", want: RefusedDomain},
		{name: "secure checked before path", url: "http://app.test/", line: "SERVERID=s1; Secure; Path=/app", want: RefusedSecure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sends, got := jarVerdict(t, tt.url, tt.line)
			if sends != tt.wantSends {
				t.Fatalf("jar sends %q back to %s = %v, want %v (reason %q)", tt.line, tt.url, sends, tt.wantSends, got)
			}
			if got != tt.want {
				t.Errorf("refusalReason(%q, %s) = %q, want %q", tt.line, tt.url, got, tt.want)
			}
		})
	}
}

func TestLearnTokenName(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{name: "none", lines: nil, want: ""},
		{name: "only one", lines: []string{"JSESSIONID=x"}, want: "JSESSIONID"},
		{name: "first when none is well known", lines: []string{"JSESSIONID=x", "lang=en"}, want: "JSESSIONID"},
		{name: "SERVERID over JSESSIONID", lines: []string{"JSESSIONID=x; Path=/", "SERVERID=s1; path=/"}, want: "SERVERID"},
		{name: "AWSALB over JSESSIONID", lines: []string{"JSESSIONID=x", "AWSALB=abc; Expires=Thu, 01 Jan 2099 00:00:00 GMT"}, want: "AWSALB"},
		{name: "BIG-IP pool prefix", lines: []string{"JSESSIONID=x", "BIGipServerpool_web=1677787402.36895.0000"}, want: "BIGipServerpool_web"},
		{name: "Citrix prefix", lines: []string{"sid=1", "NSC_vserver=ffffffff"}, want: "NSC_vserver"},
		{name: "well-known match ignores case", lines: []string{"a=1", "ServerId=s1"}, want: "ServerId"},
		{name: "first well-known wins", lines: []string{"route=r1", "SERVERID=s1"}, want: "route"},
		{name: "lines without a name skipped", lines: []string{"garbage", "=x", "JSESSIONID=x"}, want: "JSESSIONID"},
		{name: "spaces around the name", lines: []string{"  SERVERID =s1"}, want: "SERVERID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := learnTokenName(tt.lines); got != tt.want {
				t.Errorf("learnTokenName(%q) = %q, want %q", tt.lines, got, tt.want)
			}
		})
	}
}

func TestPathMatch(t *testing.T) {
	tests := []struct {
		req, cookie string
		want        bool
	}{
		{"/", "/", true},
		{"", "/", true},
		{"/app", "/app", true},
		{"/app/", "/app", true},
		{"/app/x", "/app", true},
		{"/app/x", "/app/", true},
		{"/application", "/app", false},
		{"/", "/app", false},
		{"", "/app", false},
		{"/APP", "/app", false},
		{"/ap", "/app", false},
	}
	for _, tt := range tests {
		t.Run(tt.req+" on "+tt.cookie, func(t *testing.T) {
			if got := pathMatch(tt.req, tt.cookie); got != tt.want {
				t.Errorf("pathMatch(%q, %q) = %v, want %v", tt.req, tt.cookie, got, tt.want)
			}
		})
	}
}

func TestSecureOrigin(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"app.localhost", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"app.test", false},
		{"10.0.0.1", false},
		{"localhost.test", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if got := secureOrigin(tt.host); got != tt.want {
				t.Errorf("secureOrigin(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}
