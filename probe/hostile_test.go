package probe

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// Hostile servers: in-process listeners on loopback that answer what no
// well-behaved server would. Each case runs the whole probe against one
// and checks that the event says what happened, under the right kind and
// reason, and that nothing hangs or panics. Their answers are the seeds of
// FuzzResponseReader.

// hostile is one server's behaviour: for each request read, reply gives
// the bytes to write; then it waits (hang) or closes its side.
type hostile struct {
	name   string
	reply  func(req *http.Request, self string) string
	static string // the same answer to every request, when reply is nil
	hang   bool   // after answering, keep the connection open and silent
	spec   func(s *scenarios.Spec)
	b      Browser // the client's setting for the run
	check  func(t *testing.T, evs []Event, self string)
	budget time.Duration // the run must end within it (default 10 s)
}

// hugeHeaders exceeds the 10 MB the probe reads of a response's headers.
var hugeHeaders = "HTTP/1.1 200 OK\r\nX-Backend: s1\r\nX-Big: " + strings.Repeat("a", maxHeaderBytes+1) + "\r\n\r\n"

// manyCookies has 3,001 Set-Cookie lines, one more than net/http reads.
var manyCookies = func() string {
	var b strings.Builder
	b.WriteString("HTTP/1.1 200 OK\r\nX-Backend: s1\r\nContent-Length: 0\r\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "Set-Cookie: APP%04d=x; Path=/\r\n", i)
	}
	b.WriteString("Set-Cookie: SERVERID=s1; path=/\r\n\r\n")
	return b.String()
}()

// hostileAnswers are the fixed answers of the suite, also the fuzz seeds.
var hostileAnswers = map[string]string{
	"garbage":          "\x00\x01\x02garbage\r\n\r\n",
	"half status":      "HTTP/1.1 2",
	"bad header":       "HTTP/1.1 200 OK\r\nX-Backend s1\r\nContent-Length: 0\r\n\r\n",
	"two lengths":      "HTTP/1.1 200 OK\r\nX-Backend: s1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
	"bad chunk":        "HTTP/1.1 200 OK\r\nX-Backend: s1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
	"torn chunk":       "HTTP/1.1 200 OK\r\nX-Backend: s1\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
	"gzip encoding":    "HTTP/1.1 200 OK\r\nX-Backend: s1\r\nTransfer-Encoding: gzip\r\n\r\n",
	"headers then nap": "HTTP/1.1 200 OK\r\nX-Backend: s1\r\n",
	"short body":       "HTTP/1.1 200 OK\r\nX-Backend: s1\r\nContent-Length: 100\r\n\r\nabc",
	"many cookies":     manyCookies,
	"h1 to h2":         "HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request",
	"redirect":         "HTTP/1.1 302 Found\r\nLocation: /next?sid=secret\r\nSet-Cookie: SERVERID=s1; path=/\r\nContent-Length: 0\r\n\r\n",
	"loop":             "HTTP/1.1 301 Moved Permanently\r\nLocation: /\r\nContent-Length: 0\r\n\r\n",
	"endless body":     "HTTP/1.1 200 OK\r\nX-Backend: s1\r\nContent-Length: 1073741824\r\n\r\n" + strings.Repeat("backend s1 ", 400<<10/11),
	"continue flood":   strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 50) + "HTTP/1.1 200 OK\r\nX-Backend: s1\r\nContent-Length: 0\r\n\r\n",
}

// serveHostile starts h on loopback and returns its base URL.
func serveHostile(t *testing.T, h hostile) string {
	t.Helper()
	var self string
	addr := rawServer(t, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			answer := h.static
			if h.reply != nil {
				answer = h.reply(req, self)
			}
			if _, err := io.WriteString(c, answer); err != nil {
				return
			}
			if h.hang {
				_, _ = io.Copy(io.Discard, br) // until the client gives up
				return
			}
			if strings.Contains(answer, "Connection: close") || req.Close {
				_ = c.(*net.TCPConn).CloseWrite()
				_, _ = io.Copy(io.Discard, br)
				return
			}
		}
	})
	self = "http://" + addr
	return self + "/"
}

// runHostile probes h with a small spec and returns the events.
func runHostile(t *testing.T, h hostile) ([]Event, string) {
	t.Helper()
	target := serveHostile(t, h)
	spec := testSpec(t, target)
	spec.Sessions, spec.Requests, spec.Concurrency = 2, 2, 2
	spec.Timeout = 3 * time.Second
	spec.Token = scenarios.Token{Kind: scenarios.TokenCookie, Name: "SERVERID"}
	if h.spec != nil {
		h.spec(&spec)
	}
	budget := h.budget
	if budget == 0 {
		budget = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(WithBrowser(context.Background(), h.b), 3*budget)
	defer cancel()
	start := time.Now()
	evs, _, err := runCtx(t, ctx, spec, nil)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if took := time.Since(start); took > budget {
		t.Errorf("the run took %v, want at most %v", took, budget)
	}
	if len(evs) == 0 {
		t.Fatal("no event")
	}
	return evs, strings.TrimSuffix(target, "/")
}

// every checks that each event has kind and, for protocol and local
// errors, reason.
func every(kind ErrorKind, reason string) func(*testing.T, []Event, string) {
	return func(t *testing.T, evs []Event, _ string) {
		t.Helper()
		for _, ev := range evs {
			if ev.Error != kind || ErrorReason(ev.Error, ev.Detail) != reason {
				t.Errorf("event: kind %q reason %q (%s), want %q %q", ev.Error, ErrorReason(ev.Error, ev.Detail), ev.Detail, kind, reason)
			}
		}
	}
}

// servedBy checks that every event is a success naming backend.
func servedBy(backend string) func(*testing.T, []Event, string) {
	return func(t *testing.T, evs []Event, _ string) {
		t.Helper()
		for _, ev := range evs {
			if ev.Error != "" || ev.Backend != backend {
				t.Errorf("event: error %q (%s), backend %q; want %q", ev.Error, ev.Detail, ev.Backend, backend)
			}
		}
	}
}

// quick makes a run whose requests are to time out do so soon.
func quick(s *scenarios.Spec) { s.Timeout = 300 * time.Millisecond }

// fast checks that every request succeeded well within the timeout (3 s):
// none waited on a body that never comes.
func fast(t *testing.T, evs []Event, _ string) {
	t.Helper()
	for _, ev := range evs {
		if ev.Error != "" || ev.Latency > time.Second {
			t.Errorf("event: error %q (%s) after %v; want a success, not a wait for the body", ev.Error, ev.Detail, ev.Latency)
		}
	}
}

func connSession(s *scenarios.Spec) { s.Conn = scenarios.ConnSession }

func TestHostileServers(t *testing.T) {
	cases := []hostile{
		{name: "garbage", check: every(ErrProtocol, ReasonStatusLine)},
		{name: "half status", check: every(ErrProtocol, ReasonStatusLine)},
		{name: "bad header", check: every(ErrProtocol, ReasonHeader)},
		{name: "two lengths", check: every(ErrProtocol, ReasonHeader)},
		{name: "gzip encoding", check: every(ErrProtocol, ReasonEncoding)},
		{name: "bad chunk", spec: connSession, check: every(ErrProtocol, ReasonChunked)},
		{name: "torn chunk", spec: connSession, check: every(ErrEOF, "")},
		{name: "headers then nap", hang: true, spec: quick, check: every(ErrTimeout, "")},
		{name: "short body", hang: true, spec: func(s *scenarios.Spec) { connSession(s); quick(s) }, check: every(ErrTimeout, "")},
		{name: "continue flood", check: every("", "")},
		// A body of 1 GiB: drained up to 256 KiB to reuse the connection,
		// then the connection goes; read up to 64 KiB for --id body:.
		{name: "endless body", hang: true, check: servedBy("s1"), budget: 10 * time.Second, spec: func(s *scenarios.Spec) {
			connSession(s)
		}},
		{name: "endless body", hang: true, check: servedBy("s1"), budget: 10 * time.Second, spec: func(s *scenarios.Spec) {
			s.Identify = scenarios.Identify{Kind: scenarios.IdentifyBody, Pattern: regexp.MustCompile(`backend (s\d)`)}
		}},
		// Under --conn fresh the body is not read: a torn or hanging body
		// passes, quickly (see bodyMode).
		{name: "bad chunk", spec: func(s *scenarios.Spec) { s.Conn = scenarios.ConnFresh }, check: every("", "")},
		{name: "short body", hang: true, spec: func(s *scenarios.Spec) { s.Conn = scenarios.ConnFresh }, check: fast},
		{name: "no answer", hang: true, spec: quick, check: every(ErrTimeout, "")},
		{name: "huge headers", static: hugeHeaders, check: every(ErrProtocol, ReasonHeadersSize), budget: 10 * time.Second,
			spec: func(s *scenarios.Spec) { s.Sessions, s.Requests, s.Timeout = 1, 1, 5*time.Second }},
		{name: "many cookies", check: func(t *testing.T, evs []Event, _ string) {
			for _, ev := range evs {
				if ev.Error != "" || ev.TokenRefused != RefusedTooMany || ev.TokenSent != "" {
					t.Errorf("event %+v: want no error, token refused as too-many-cookies, never sent", ev)
				}
			}
		}},
		// Which of the two net/http says depends on whether the answer
		// was read before the connection closed.
		{name: "h1 to h2", spec: func(s *scenarios.Spec) { s.HTTP2 = true }, check: func(t *testing.T, evs []Event, _ string) {
			for _, ev := range evs {
				if r := ErrorReason(ev.Error, ev.Detail); ev.Error != ErrProtocol || (r != ReasonH2cOverH1 && r != ReasonNoH2Answer) {
					t.Errorf("event: kind %q reason %q (%s), want a protocol error about HTTP/2", ev.Error, r, ev.Detail)
				}
			}
		}},
	}
	for _, h := range cases {
		if h.static == "" && h.reply == nil {
			var ok bool
			if h.static, ok = hostileAnswers[h.name]; !ok && h.name != "no answer" {
				t.Fatalf("no answer for %q", h.name)
			}
		}
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			evs, self := runHostile(t, h)
			h.check(t, evs, self)
		})
	}
}

// redirectThenBackend redirects / to /next?sid=secret, setting the LB
// cookie on the redirect, and names the backend on /next only when the
// request carried that cookie, as a browser following the redirect sends
// it.
func redirectThenBackend(req *http.Request, _ string) string {
	if req.URL.Path != "/next" {
		return hostileAnswers["redirect"]
	}
	backend := "no-cookie"
	if c, err := req.Cookie("SERVERID"); err == nil {
		backend = c.Value
	}
	return "HTTP/1.1 200 OK\r\nX-Backend: " + backend + "\r\nContent-Length: 0\r\n\r\n"
}

func TestHostileRedirects(t *testing.T) {
	follow := Browser{FollowRedirects: true}
	t.Run("not followed: reported with where to", func(t *testing.T) {
		evs, self := runHostile(t, hostile{reply: redirectThenBackend})
		for _, ev := range evs {
			if ev.Status != 302 || ev.Location != self+"/next?…" || len(ev.Redirects) != 0 {
				t.Errorf("event %+v: want the 302 itself, pointing to %s/next?… (query hidden)", ev, self)
			}
		}
	})
	t.Run("followed in the session's jar", func(t *testing.T) {
		evs, self := runHostile(t, hostile{reply: redirectThenBackend, b: follow})
		for _, ev := range evs {
			if ev.Status != 200 || ev.Backend != "s1" || ev.Location != "" || len(ev.Redirects) != 1 || ev.Redirects[0] != self+"/next?…" {
				t.Errorf("event %+v: want the final 200 of s1 after one hop to /next", ev)
			}
			if ev.Seq > 0 && ev.TokenSent != "s1" {
				t.Errorf("event %+v: the cookie set on the redirect is not sent afterwards", ev)
			}
		}
	})
	t.Run("followed, each hop on a connection of its own", func(t *testing.T) {
		evs, _ := runHostile(t, hostile{reply: redirectThenBackend, b: follow, spec: connSession})
		for _, ev := range evs {
			if ev.Error != "" || ev.Backend != "s1" {
				t.Errorf("event %+v", ev)
			}
		}
	})
	t.Run("a loop is a protocol error", func(t *testing.T) {
		evs, _ := runHostile(t, hostile{static: hostileAnswers["loop"], b: follow})
		every(ErrProtocol, ReasonRedirects)(t, evs, "")
	})
	t.Run("to another host", func(t *testing.T) {
		other := serveHostile(t, hostile{static: "HTTP/1.1 200 OK\r\nX-Backend: elsewhere\r\nContent-Length: 0\r\n\r\n"})
		other = strings.Replace(other, "127.0.0.1", "localhost", 1)
		to := func(*http.Request, string) string {
			return "HTTP/1.1 307 Temporary Redirect\r\nLocation: " + other + "\r\nContent-Length: 0\r\n\r\n"
		}
		evs, _ := runHostile(t, hostile{reply: to, b: follow})
		for _, ev := range evs {
			if ev.Backend != "elsewhere" || len(ev.Redirects) != 1 || ev.Redirects[0] != other {
				t.Errorf("event %+v: want the answer of %s", ev, other)
			}
		}
		evs, _ = runHostile(t, hostile{reply: to})
		for _, ev := range evs {
			if ev.Status != 307 || ev.Location != other {
				t.Errorf("without the flag, event %+v: want the 307 itself", ev)
			}
		}
	})
}
