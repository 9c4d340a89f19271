package probe

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
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

// FuzzResponseReader feeds arbitrary bytes, seeded with the hostile
// servers' answers, through what the probe does with an answer: read the
// response (1xx skipped), its body in each mode, the error's kind and
// reason, the cookies into a jar of each mode, the redirect, the backend.
// Nothing may panic, a body stays within its bound, and an error has a
// kind that is about the answer.
func FuzzResponseReader(f *testing.F) {
	for _, answer := range hostileAnswers {
		if len(answer) < 64<<10 {
			f.Add([]byte(answer))
		}
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nX-Backend: s1\r\nSet-Cookie: SERVERID=s1; path=/; SameSite=None\r\nContent-Length: 2\r\n\r\nok"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nSet-Cookie: __Host-SERVERID=s1; Secure; Path=/; Domain=lab.example\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"))
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "http", Host: "lab.example", Path: "/"}}
	id := newIdentifier(scenarios.Identify{Kind: scenarios.IdentifyAuto})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mode := range []bodyMode{bodySkip, bodyDrain, bodyRead} {
			resp, err := readResponse(bufio.NewReader(bytes.NewReader(data)), req)
			if err != nil {
				kind := classifyError(context.Background(), err)
				if kind != ErrProtocol && kind != ErrEOF && kind != ErrOther {
					t.Fatalf("read error %v: kind %q", err, kind)
				}
				if kind == ErrProtocol && ErrorReason(kind, err.Error()) == "" && !strings.Contains(err.Error(), "malformed HTTP") {
					t.Logf("protocol error without a reason: %v", err)
				}
				return
			}
			body, _, _ := readBody(newWorker(), resp, mode)
			if len(body) > maxBodyIdentify {
				t.Fatalf("kept %d bytes of body", len(body))
			}
			for _, jm := range []JarMode{JarBrowser, JarRFC6265} {
				r := tokenRunner(jm)
				s := newSession(0, false, 0, nil)
				ev := Event{TokenName: "SERVERID"}
				r.observeToken(s, &ev, resp)
				if ev.TokenRefused != "" && s.held {
					t.Fatalf("refused %q yet held", ev.TokenRefused)
				}
			}
			if u := redirectTarget(resp); u != nil && u.Scheme != "http" && u.Scheme != "https" {
				t.Fatalf("redirect to %s", u)
			}
			_ = id.backend(resp.StatusCode, resp.Header, body, "", "")
		}
	})
}
