package probe

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"golang.org/x/net/publicsuffix"
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
		if id.backend(h, nil, "", "") != "s2" {
			b.Fatal("wrong backend")
		}
	}
}

func BenchmarkIdentifierBackendAutoCookie(b *testing.B) {
	id := mustIdentify(b, "auto")
	h := http.Header{"Content-Type": {"text/html"}}
	b.ReportAllocs()
	for b.Loop() {
		if id.backend(h, nil, "", "s1~a1b2c3") != "s1" {
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
