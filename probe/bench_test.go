package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

func BenchmarkIdentifierBackendHeader(b *testing.B) {
	id := mustIdentify(b, "header:X-Backend")
	h := http.Header{
		"Content-Type":   {"text/html"},
		"Date":           {"Sun, 01 Jun 2025 12:00:00 GMT"},
		"X-Backend":      {"s2"},
		"Content-Length": {"512"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if id.backend(200, h, nil, "", "") != "s2" {
			b.Fatal("wrong backend")
		}
	}
}

func BenchmarkIdentifierBackendAutoCookie(b *testing.B) {
	id := mustIdentify(b, "auto")
	h := http.Header{"Content-Type": {"text/html"}}
	b.ReportAllocs()
	for b.Loop() {
		if id.backend(200, h, nil, "", "s1~a1b2c3") != "s1" {
			b.Fatal("wrong backend")
		}
	}
}

func BenchmarkInspectSetCookie(b *testing.B) {
	lines := []string{
		"JSESSIONID=0123456789ABCDEF0123456789ABCDEF; Path=/; HttpOnly",
		"SERVERID=s1; path=/",
	}
	b.ReportAllocs()
	for b.Loop() {
		if ts := inspectSetCookie(lines, "SERVERID", testNow); ts.cookie == nil {
			b.Fatal("token not found")
		}
	}
}

// BenchmarkRefusal measures what the probe does after a response set the
// token: ask the jar whether it sends it back and, if not, why.
func BenchmarkRefusal(b *testing.B) {
	cases := []struct {
		name, url, line string
		sends           bool
	}{
		{name: "sent", url: "http://app.test/", line: "SERVERID=s1; path=/", sends: true},
		{name: "refused-secure", url: "http://app.test/", line: "SERVERID=s1; path=/; Secure"},
		{name: "refused-domain", url: "http://app.test/", line: "SERVERID=s1; Domain=other.test"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			u, _ := url.Parse(c.url)
			ck, err := http.ParseSetCookie(c.line)
			if err != nil {
				b.Fatal(err)
			}
			jar, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
			jar.SetCookies(u, []*http.Cookie{ck})
			b.ReportAllocs()
			for b.Loop() {
				sends := jarSends(jar, u, ck.Name, ck.Value)
				if sends != c.sends {
					b.Fatalf("jarSends = %v", sends)
				}
				if !sends && refusalReason(ck, u) == "" {
					b.Fatal("no reason")
				}
			}
		})
	}
}

func BenchmarkEventEncode(b *testing.B) {
	enc := json.NewEncoder(io.Discard)
	ev := sampleEvent()
	b.ReportAllocs()
	for b.Loop() {
		if err := enc.Encode(&ev); err != nil {
			b.Fatal(err)
		}
	}
}

// benchLB answers every request on a keep-alive connection with what the
// lab's HAProxy sends a returning client: a small page naming the backend.
func benchLB(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Sun, 01 Jun 2025 12:00:00 GMT\r\n" +
		"X-Backend: s2\r\nContent-Length: 19\r\n\r\nserved by server2\r\n")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				// No http.ReadRequest: the server must not allocate, so
				// allocs/op counts the probe's alone. A request ends
				// with an empty line; the probe sends one at a time.
				defer c.Close()
				buf := make([]byte, 4096)
				n := 0
				for {
					m, err := c.Read(buf[n:])
					if err != nil {
						return
					}
					n += m
					if i := bytes.Index(buf[:n], []byte("\r\n\r\n")); i >= 0 {
						n = copy(buf, buf[i+4:n])
						if _, err := c.Write(resp); err != nil {
							return
						}
					} else if n == len(buf) {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// BenchmarkRequest measures one request of a session end to end under
// --conn session, against a loopback server: building and writing the
// request, reading the response, token and identity bookkeeping. The
// syscalls dominate ns/op; allocs/op is the figure to watch.
func BenchmarkRequest(b *testing.B) {
	spec := scenarios.Default()
	u, _ := scenarios.ParseURL("http://" + benchLB(b) + "/")
	spec.URLs = []*url.URL{u}
	spec.Conn = scenarios.ConnSession
	spec.ControlSessions = 0
	spec.Token = scenarios.Token{Kind: scenarios.TokenCookie, Name: "SERVERID"}
	r, err := NewRunner(spec)
	if err != nil {
		b.Fatal(err)
	}
	s := newSession(0, false, 0, &jarShared{})
	defer s.close()
	lines := []string{"SERVERID=s2; path=/"}
	s.jar.setCookies(r.targets[0].reqURL, lines, (&http.Response{Header: http.Header{"Set-Cookie": lines}}).Cookies(), time.Now())
	w := newWorker()
	ctx := context.Background()
	ph := r.newPhase(spec.Plan()[0], time.Now())
	b.ReportAllocs()
	for b.Loop() {
		ev := r.do(ctx, w, ph, s)
		if ev.Error != "" || ev.Backend != "s2" || ev.TokenSent != "s2" {
			b.Fatalf("event %+v", ev)
		}
	}
}

// BenchmarkAppendRequest measures writing a request head: the fixed part
// rendered once per frontend, then the jar's cookies.
func BenchmarkAppendRequest(b *testing.B) {
	spec := scenarios.Default()
	u, _ := scenarios.ParseURL("http://shop.example:8080/cart?x=1")
	spec.URLs = []*url.URL{u}
	h, _ := scenarios.ParseHeader("X-Test: yes")
	spec.Headers = []scenarios.Header{h}
	t := newTarget(spec, u, newDialer(spec), false, 0)
	jar := []*http.Cookie{{Name: "SERVERID", Value: "s1"}, {Name: "JSESSIONID", Value: "0123456789ABCDEF"}}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = t.appendRequest(buf[:0], jar)
	}
}

// BenchmarkJarCookies measures asking a jar what to send: a session jar
// answers from its cache until a response sets a cookie; a
// cookiejar.Jar, which sessions used to hold, works it out every time.
func BenchmarkJarCookies(b *testing.B) {
	u, _ := url.Parse("http://shop.example/")
	lines := []string{"SERVERID=s1; path=/", "JSESSIONID=0123456789ABCDEF; Path=/; HttpOnly"}
	cookies := (&http.Response{Header: http.Header{"Set-Cookie": lines}}).Cookies()
	b.Run("session", func(b *testing.B) {
		j := jar{shared: &jarShared{}}
		j.setCookies(u, lines, cookies, time.Now())
		b.ReportAllocs()
		for b.Loop() {
			if len(j.Cookies(u)) != 2 {
				b.Fatal("wrong cookies")
			}
		}
	})
	b.Run("cookiejar", func(b *testing.B) {
		j := newCookieJar()
		j.SetCookies(u, cookies)
		b.ReportAllocs()
		for b.Loop() {
			if len(j.Cookies(u)) != 2 {
				b.Fatal("wrong cookies")
			}
		}
	})
}

// BenchmarkJarSetCookies measures a response that sets the token, the
// first of a session: record it, and replay once to learn what is sent.
func BenchmarkJarSetCookies(b *testing.B) {
	u, _ := url.Parse("http://shop.example/")
	lines := []string{"SERVERID=s1; path=/"}
	cookies := (&http.Response{Header: http.Header{"Set-Cookie": lines}}).Cookies()
	shared := &jarShared{}
	b.ReportAllocs()
	for b.Loop() {
		j := jar{shared: shared}
		j.setCookies(u, lines, cookies, time.Now())
		if !jarSends(&j, u, "SERVERID", "s1") {
			b.Fatal("not sent")
		}
	}
}
