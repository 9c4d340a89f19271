package scenarios

import (
	"net/http"
	"strings"
	"testing"
)

// The fuzz targets check that no input makes a parser panic, that what a
// parser accepts is well formed, and that the String form of a parsed value
// parses back to the same value. Run one with
//
//	go test -run='^$' -fuzz=FuzzParseResolve -fuzztime=10s ./scenarios/

func FuzzParseIdentify(f *testing.F) {
	for _, s := range []string{
		"", "auto", "header:X-Backend", "header:x-served-by", "cookie:SERVERID",
		`body:Hostname: (\S+)`, "body:a:b", "body:(", "header:", "query:x", "auto:",
		"cookie:a=b", "header:X Y", "body:(?i)server=(\\w+)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseIdentify(s)
		if err != nil {
			if !strings.Contains(err.Error(), "--id") {
				t.Errorf("ParseIdentify(%q) error %q does not name --id", s, err)
			}
			return
		}
		switch id.Kind {
		case IdentifyAuto:
		case IdentifyHeader, IdentifyCookie:
			if !validToken(id.Name) {
				t.Errorf("ParseIdentify(%q) accepted name %q", s, id.Name)
			}
		case IdentifyBody:
			if id.Pattern == nil {
				t.Fatalf("ParseIdentify(%q): body kind without a pattern", s)
			}
		default:
			t.Fatalf("ParseIdentify(%q): kind %q", s, id.Kind)
		}
		again, err := ParseIdentify(id.String())
		if err != nil {
			t.Fatalf("ParseIdentify(%q) = %q, which does not parse: %v", s, id, err)
		}
		if again.Kind != id.Kind || again.Name != id.Name || again.String() != id.String() {
			t.Errorf("ParseIdentify(%q) = %q, reparsed as %q", s, id, again)
		}
	})
}

func FuzzParseToken(f *testing.F) {
	for _, s := range []string{"", "auto", "source", "none", "cookie:SERVERID", "cookie:", "cookie", "cookie:a;b", "x:y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			if !strings.Contains(err.Error(), "--token") {
				t.Errorf("ParseToken(%q) error %q does not name --token", s, err)
			}
			return
		}
		switch tok.Kind {
		case TokenAuto, TokenSource, TokenNone:
			if tok.Name != "" {
				t.Errorf("ParseToken(%q) = %+v, want no name", s, tok)
			}
		case TokenCookie:
			if !validToken(tok.Name) {
				t.Errorf("ParseToken(%q) accepted cookie name %q", s, tok.Name)
			}
		default:
			t.Fatalf("ParseToken(%q): kind %q", s, tok.Kind)
		}
		again, err := ParseToken(tok.String())
		if err != nil || again != tok {
			t.Errorf("ParseToken(%q) = %+v; ParseToken(%q) = %+v, %v", s, tok, tok.String(), again, err)
		}
	})
}

func FuzzParseResolve(f *testing.F) {
	for _, s := range []string{
		"app.test:8080:127.0.0.1", "lb.example:443:[::1]", "lb.example:443:::1",
		"a:1:::ffff:10.0.0.1", "a:0:127.0.0.1", "a:+80:127.0.0.1", "a:080:127.0.0.1",
		"a:80:[::1", "::::", "A:80:1.2.3.4", ":80:1.2.3.4", "a:80:localhost",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseResolve(s)
		if err != nil {
			if !strings.Contains(err.Error(), "--resolve") {
				t.Errorf("ParseResolve(%q) error %q does not name --resolve", s, err)
			}
			return
		}
		if r.Host == "" || strings.Contains(r.Host, ":") || r.Port < 1 || r.Port > 65535 || r.Addr == "" {
			t.Errorf("ParseResolve(%q) = %+v: malformed", s, r)
		}
		again, err := ParseResolve(r.String())
		if err != nil || again != r {
			t.Errorf("ParseResolve(%q) = %+v; ParseResolve(%q) = %+v, %v", s, r, r.String(), again, err)
		}
	})
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{
		"X-Test: yes", "x-test:yes", "Host: app.test", "X:", ": v", "X Y: v",
		"X: a\r\nY: b", "X: a\x00", "X: a\tb", "X: café", " X : v ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHeader(s)
		if err != nil {
			if !strings.Contains(err.Error(), "--header") {
				t.Errorf("ParseHeader(%q) error %q does not name --header", s, err)
			}
			return
		}
		// What is accepted must be sendable: net/http refuses to write
		// an invalid header, which would fail every request of the run.
		if !validToken(h.Name) || h.Name != http.CanonicalHeaderKey(h.Name) {
			t.Errorf("ParseHeader(%q): name %q", s, h.Name)
		}
		for i := 0; i < len(h.Value); i++ {
			if c := h.Value[i]; (c < ' ' && c != '\t') || c == 0x7f {
				t.Errorf("ParseHeader(%q): value %q has control byte %#x", s, h.Value, c)
			}
		}
		again, err := ParseHeader(h.Name + ": " + h.Value)
		if err != nil || again != h {
			t.Errorf("ParseHeader(%q) = %+v; reparsed = %+v, %v", s, h, again, err)
		}
	})
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"http://lb.test:8080/app", "https://lb.test", "lb.test", "localhost:8080",
		"127.0.0.1:8080/x", "[::1]:8080", "ftp://x/", "http:///x", "lb.test:http",
		"mailto:a@b", "//lb.test/", "http://u:p@lb.test/?q=1#f", "http://[fe80::1%25eth0]:80/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURL(s)
		if err != nil {
			if s != "" && !strings.Contains(err.Error(), "target") {
				t.Errorf("ParseURL(%q) error %q does not name the target", s, err)
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Errorf("ParseURL(%q) scheme %q", s, u.Scheme)
		}
		if u.Host == "" {
			t.Errorf("ParseURL(%q) has no host", s)
		}
		if u.Path == "" {
			t.Errorf("ParseURL(%q) has an empty path", s)
		}
		if _, err := http.NewRequest(http.MethodGet, u.String(), nil); err != nil {
			t.Errorf("ParseURL(%q) = %q, which net/http refuses: %v", s, u, err)
		}
		again, err := ParseURL(u.String())
		if err != nil || again.String() != u.String() {
			t.Errorf("ParseURL(%q) = %q; ParseURL(%q) = %v, %v", s, u, u, again, err)
		}
	})
}
