package probe

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// The session's jar must answer exactly as a cookiejar.Jar that got the
// same calls: these tests play the same Set-Cookie lines into both and
// compare what each sends to every URL after every call.

var jarURLs = func() []*url.URL {
	var us []*url.URL
	for _, raw := range []string{
		"http://example.com/", "http://sub.example.com/a/b", "https://example.com/a", "https://www.example.com/a/",
		"http://127.0.0.1:8080/", "http://other.test/x", "http://localhost/", "http://example.co.uk/",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			panic(err)
		}
		us = append(us, u)
	}
	return us
}()

var (
	jarNames  = []string{"SERVERID", "A", "B"}
	jarValues = []string{"s1", "s2", `"q"`, "x,y", ""}
	jarAttrs  = []string{
		"Path=/", "Path=/a", "Path=/a/b", "path=bad", "Domain=example.com", "Domain=.example.com", "Domain=com",
		"Domain=sub.example.com", "Domain=co.uk", "Domain=127.0.0.1", "Secure", "HttpOnly", "SameSite=Lax",
		"Max-Age=0", "Max-Age=-1", "Max-Age=3600", "Max-Age=60", "Expires=Thu, 01 Jan 1970 00:00:00 GMT",
		"Expires=Fri, 01 Jan 2100 00:00:00 GMT", "Expires=nonsense",
	}
)

// jarLine builds a Set-Cookie line from small numbers.
func jarLine(name, value int, attrs []int) string {
	var b strings.Builder
	b.WriteString(jarNames[name%len(jarNames)])
	b.WriteString("=")
	b.WriteString(jarValues[value%len(jarValues)])
	for _, a := range attrs {
		b.WriteString("; ")
		b.WriteString(jarAttrs[a%len(jarAttrs)])
	}
	return b.String()
}

// jarPair plays calls into a session jar and a cookiejar.Jar.
type jarPair struct {
	t    testing.TB
	mine jar
	ref  interface {
		SetCookies(*url.URL, []*http.Cookie)
		Cookies(*url.URL) []*http.Cookie
	}
	log []string
}

// newJarPair's session jar shares its send lists and horizon through
// shared, as the sessions of a run do.
func newJarPair(t testing.TB, shared *jarShared) *jarPair {
	p := &jarPair{t: t, ref: newCookieJar()}
	p.mine.shared = shared
	return p
}

// testShared is a run's shared jar state with a horizon an hour away:
// Max-Age=3600 and the year-2100 Expires lie beyond it, Max-Age=60 not.
func testShared() *jarShared { return &jarShared{horizon: time.Now().Add(time.Hour)} }

func (p *jarPair) set(u *url.URL, lines []string) {
	p.log = append(p.log, fmt.Sprintf("%s %q", u, lines))
	cookies := (&http.Response{Header: http.Header{"Set-Cookie": lines}}).Cookies()
	p.mine.setCookies(u, lines, cookies, time.Now())
	p.ref.SetCookies(u, cookies)
	p.check()
}

func (p *jarPair) check() {
	p.t.Helper()
	for _, u := range jarURLs {
		// Twice: the second answer may come from the session jar's cache.
		for range 2 {
			if got, want := cookieList(p.mine.Cookies(u)), cookieList(p.ref.Cookies(u)); got != want {
				p.t.Fatalf("after\n  %s\nthe session jar sends %s to %s, cookiejar sends %s", strings.Join(p.log, "\n  "), got, u, want)
			}
		}
	}
}

func cookieList(cs []*http.Cookie) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s=%s(q=%v) ", c.Name, c.Value, c.Quoted)
	}
	return "[" + strings.TrimSpace(b.String()) + "]"
}

func TestJarAsCookiejar(t *testing.T) {
	u := jarURLs
	tests := []struct {
		name  string
		steps func(p *jarPair)
	}{
		{name: "HAProxy insert, then the same again", steps: func(p *jarPair) {
			p.set(u[0], []string{"SERVERID=s1; path=/"})
			p.set(u[0], []string{"SERVERID=s1; path=/"})
			p.set(u[0], []string{"SERVERID=s2; path=/"})
		}},
		{name: "deleted by an expired line", steps: func(p *jarPair) {
			p.set(u[0], []string{"SERVERID=s1; path=/", "A=1"})
			p.set(u[0], []string{"SERVERID=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/"})
		}},
		{name: "order: longer path first, then creation", steps: func(p *jarPair) {
			p.set(u[3], []string{"B=1; Path=/", "A=1; Path=/a"})
			p.set(u[3], []string{"C=1; Path=/", "B=2; Path=/"})
		}},
		{name: "domain and subdomain", steps: func(p *jarPair) {
			p.set(u[1], []string{"A=1; Domain=example.com", "B=2"})
			p.set(u[0], []string{"A=3; Domain=.example.com"})
		}},
		{name: "future expiry", steps: func(p *jarPair) {
			p.set(u[0], []string{"A=1", "B=1; Path=/"})
			p.set(u[0], []string{"SERVERID=s1; Max-Age=3600"})
			p.set(u[0], []string{"A=2"})
		}},
		{name: "many different sets make the jar live", steps: func(p *jarPair) {
			for i := range 2 * maxOps {
				p.set(u[i%2], []string{fmt.Sprintf("A=%d", i), fmt.Sprintf("N%d=1", i)})
			}
		}},
		{name: "an LB's sliding Max-Age among other cookies", steps: func(p *jarPair) {
			p.set(u[0], []string{"X=1; Path=/"})
			p.set(u[0], []string{"Y=1; Path=/"})
			p.set(u[0], []string{"X=2; Max-Age=7200; Path=/"})
			p.set(u[0], []string{"X=2; Max-Age=7200; Path=/"})
			p.set(u[0], []string{"X=3; Path=/", "AWSALB=a; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Path=/"})
		}},
		{name: "refused cookies", steps: func(p *jarPair) {
			p.set(u[0], []string{"A=1; Domain=co.uk", "B=1; Domain=other.test", "S=1; Secure"})
			p.set(u[7], []string{"A=1; Domain=co.uk"})
			p.set(u[4], []string{"A=1; Domain=127.0.0.1", "B=1; Domain=.127.0.0.1"})
		}},
	}
	for _, shared := range []*jarShared{nil, testShared()} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/horizon=%v", tt.name, shared != nil), func(t *testing.T) {
				p := newJarPair(t, shared)
				p.check()
				tt.steps(p)
			})
		}
	}
}

// TestJarAsCookiejarRandom plays seeded random sequences.
func TestJarAsCookiejarRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	shared := testShared()
	for i := range 400 {
		p := newJarPair(t, shared)
		if i%2 == 1 {
			p.mine.shared = nil // no horizon: every expiring cookie makes the jar live
		}
		for range 1 + rng.IntN(12) {
			var lines []string
			for range 1 + rng.IntN(3) {
				attrs := make([]int, rng.IntN(4))
				for i := range attrs {
					attrs[i] = rng.IntN(len(jarAttrs))
				}
				lines = append(lines, jarLine(rng.IntN(len(jarNames)), rng.IntN(len(jarValues)), attrs))
			}
			p.set(jarURLs[rng.IntN(len(jarURLs))], lines)
			if rng.IntN(4) == 0 { // the same call again
				p.set(jarURLs[rng.IntN(len(jarURLs))], lines)
			}
		}
	}
}

func FuzzJarAsCookiejar(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 1, 0, 1, 2, 3, 13})
	f.Add([]byte{3, 1, 2, 15, 3, 1, 0, 0, 3, 2, 1, 16})
	shared := testShared()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := newJarPair(t, shared)
		// Each call: URL, then up to three lines of name, value, attribute count, attributes.
		for len(data) >= 2 && len(p.log) < 16 {
			u := jarURLs[int(data[0])%len(jarURLs)]
			n := 1 + int(data[1])%3
			data = data[2:]
			var lines []string
			for range n {
				if len(data) < 3 {
					break
				}
				name, value, k := int(data[0]), int(data[1]), int(data[2])%4
				data = data[3:]
				attrs := make([]int, 0, k)
				for ; k > 0 && len(data) > 0; k-- {
					attrs = append(attrs, int(data[0]))
					data = data[1:]
				}
				lines = append(lines, jarLine(name, value, attrs))
			}
			if len(lines) == 0 {
				break
			}
			p.set(u, lines)
		}
	})
}

// TestJarSize: a session's jar with the one cookie an LB sets stays small
// (a cookiejar.Jar holding it takes about 770 bytes), and smaller still
// when the sessions share what they send.
func TestJarSize(t *testing.T) {
	for _, tt := range []struct {
		name   string
		shared *jarShared
		max    float64
	}{
		{name: "own lists", max: 400},
		{name: "shared lists", shared: &jarShared{}, max: 120},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const n = 2000
			u := jarURLs[4]
			jars := make([]jar, n)
			before := heapInUse()
			for i := range jars {
				// Each session's response has its own header, as in a run.
				lines := []string{"SERVERID=s" + string(rune('1'+i%3)) + "; path=/"}
				cookies := (&http.Response{Header: http.Header{"Set-Cookie": lines}}).Cookies()
				jars[i].shared = tt.shared
				jars[i].setCookies(u, lines, cookies, time.Now())
				if len(jars[i].Cookies(u)) != 1 {
					t.Fatal("the cookie is not sent")
				}
			}
			per := float64(heapInUse()-before) / n
			runtime.KeepAlive(jars)
			t.Logf("%.0f bytes per jar beyond its %d-byte struct", per, unsafe.Sizeof(jar{}))
			if per > tt.max {
				t.Errorf("%.0f bytes per jar holding one cookie, want at most %.0f", per, tt.max)
			}
		})
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestJarGoesLiveOnExpiry: a cookie that may expire before the run ends
// depends on when it was stored and when the jar is asked, so the record
// cannot hold it: the jar becomes a live cookiejar.Jar. (Comparing
// answers cannot show this without waiting for the expiry.)
func TestJarGoesLiveOnExpiry(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	run := &jarShared{horizon: now.Add(time.Hour)}
	tests := []struct {
		line   string
		shared *jarShared
		live   bool
	}{
		{line: "A=1", live: false},
		{line: "A=1; Max-Age=3600", live: true},
		{line: "A=1; Max-Age=0", live: false}, // deletes: MaxAge -1
		{line: "A=1; Max-Age=-5", live: false},
		{line: "A=1; Expires=Mon, 01 Jun 2026 12:00:01 GMT", live: true},
		{line: "A=1; Expires=Mon, 01 Jun 2026 12:00:00 GMT", live: false}, // not after now: deletes
		{line: "A=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT", live: false},
		{line: "A=1; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT", live: false}, // Max-Age wins
		{line: "A=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT", live: true},
		// With a run's horizon an hour away:
		{line: "A=1; Max-Age=3600", shared: run, live: true}, // expires at the horizon
		{line: "A=1; Max-Age=3601", shared: run, live: false},
		{line: "A=1; Max-Age=60", shared: run, live: true},
		{line: "A=1; Expires=Mon, 01 Jun 2026 12:59:59 GMT", shared: run, live: true},
		{line: "A=1; Expires=Mon, 01 Jun 2026 13:00:01 GMT", shared: run, live: false},
		{line: "AWSALB=x; Expires=Mon, 08 Jun 2026 12:00:00 GMT; Path=/", shared: run, live: false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/horizon=%v", tt.line, tt.shared != nil), func(t *testing.T) {
			j := jar{shared: tt.shared}
			lines := []string{tt.line}
			j.setCookies(jarURLs[0], lines, (&http.Response{Header: http.Header{"Set-Cookie": lines}}).Cookies(), now)
			if got := j.live != nil; got != tt.live {
				t.Errorf("live = %v, want %v", got, tt.live)
			}
		})
	}
}
