package haplog

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
)

// These tests assert what HAProxy 2.6.12 writes in the 3rd and 4th
// characters of the termination state, as measured on it first: see the
// README's "What HAProxy logs (measured here)".

// logLab is a lab whose every request is found again in its log by the
// mark header the lab's frontend captures.
type logLab struct {
	t     *testing.T
	lab   *lab.Lab
	seq   atomic.Int64
	httpc *http.Client
}

func startLogLab(t *testing.T, preset string, edit func(*lab.HAProxyConfig)) *logLab {
	t.Helper()
	if _, err := lab.FindHAProxy(); err != nil {
		t.Fatal(err) // a missing haproxy fails, never skips
	}
	p, ok := lab.PresetByName(preset)
	if !ok {
		t.Fatalf("no preset %q", preset)
	}
	if edit != nil {
		edit(&p.Config)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	l, err := lab.Start(ctx, lab.Options{Backends: 2, Backend: p.Backend, HAProxy: p.Config})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &logLab{t: t, lab: l, httpc: &http.Client{
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		Timeout:   10 * time.Second,
	}}
}

// get sends one request to node with cookie (a "NAME=value" or ""), and
// returns the Set-Cookie it got and HAProxy's log record of it.
func (ll *logLab) get(node *lab.HAProxy, cookie string) (string, Record) {
	ll.t.Helper()
	mark := fmt.Sprintf("test/%d/0", ll.seq.Add(1))
	req, _ := http.NewRequest(http.MethodGet, node.URL(), nil)
	req.Header.Set(lab.MarkHeader, mark)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := ll.httpc.Do(req)
	if err != nil {
		ll.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("Set-Cookie"), ll.record(node, "{"+mark+"}")
}

// record waits (bounded) for the log line holding want and parses it.
func (ll *logLab) record(node *lab.HAProxy, want string) Record {
	ll.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		b, _ := os.ReadFile(node.RequestLog())
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, want) {
				var r Record
				if err := NewParser(nil, time.Local).Parse(line, &r); err != nil {
					ll.t.Fatalf("%v: %q", err, line)
				}
				return r
			}
		}
		if time.Now().After(deadline) {
			ll.t.Fatalf("no log line with %s in:\n%s", want, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitMessage waits (bounded) for an HAProxy message in the log.
func (ll *logLab) waitMessage(node *lab.HAProxy, want string, within time.Duration) {
	ll.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(node.RequestLog()); strings.Contains(string(b), want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	ll.t.Fatalf("no %q in the log within %s", want, within)
}

func (ll *logLab) node() *lab.HAProxy { return ll.lab.LB.(*lab.HAProxy) }

func cookiePair(setCookie string) string {
	pair, _, _ := strings.Cut(setCookie, ";")
	return pair
}

func wantTerm(t *testing.T, what string, r Record, term string) {
	t.Helper()
	if r.Term[2:] != term {
		t.Errorf("%s: HAProxy logged %s (%s/%s %d), want cookie statuses %s", what, r.Term, r.Backend, r.Server, r.Status, term)
	}
}

func TestHAProxyLogsTextbook(t *testing.T) {
	t.Parallel()
	ll := startLogLab(t, "textbook", nil)
	set, first := ll.get(ll.node(), "")
	wantTerm(t, "first request", first, "NI")
	if !strings.HasPrefix(set, "SERVERID=s") {
		t.Fatalf("Set-Cookie %q", set)
	}
	for i := 0; i < 3; i++ {
		again, later := ll.get(ll.node(), cookiePair(set))
		wantTerm(t, "later request", later, "VN")
		if later.Server != first.Server || again != "" {
			t.Errorf("later request: server %s (first %s), Set-Cookie %q", later.Server, first.Server, again)
		}
	}
}

func TestHAProxyLogsServersWithoutCookieValues(t *testing.T) {
	t.Parallel()
	ll := startLogLab(t, "no-server-cookie", nil)
	for i := 0; i < 3; i++ {
		set, r := ll.get(ll.node(), "")
		// HAProxy says it inserted a cookie, and the cookie it sends expires
		// at once: the log alone cannot tell this from new visitors.
		wantTerm(t, "request", r, "NI")
		if !strings.Contains(set, "SERVERID=;") || !strings.Contains(set, "1970") {
			t.Errorf("Set-Cookie %q, want an expired empty SERVERID", set)
		}
	}
}

func TestHAProxyLogsAnotherNodesCookie(t *testing.T) {
	t.Parallel()
	ll := startLogLab(t, "textbook", nil)
	p, _ := lab.PresetByName("textbook")
	p.Config.CookiePrefix = "b"
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	node2, err := ll.lab.AddNode(ctx, p.Config)
	if err != nil {
		t.Fatal(err)
	}
	set1, _ := ll.get(ll.node(), "")
	set2, r := ll.get(node2, cookiePair(set1))
	wantTerm(t, "node 1's cookie on node 2", r, "II")
	if !strings.HasPrefix(set2, "SERVERID=bs") {
		t.Errorf("node 2 set %q", set2)
	}
	_, back := ll.get(ll.node(), cookiePair(set2))
	wantTerm(t, "node 2's cookie on node 1", back, "II")
}

// killPinned pins a client, stops its server and returns the cookie.
func killPinned(t *testing.T, ll *logLab) (string, Record) {
	t.Helper()
	set, first := ll.get(ll.node(), "")
	b := ll.lab.Backend(first.Server)
	if b == nil {
		t.Fatalf("no backend %q", first.Server)
	}
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	return cookiePair(set), first
}

func TestHAProxyLogsKilledServerWithoutRedispatch(t *testing.T) {
	t.Parallel()
	ll := startLogLab(t, "textbook", nil)
	cookie, first := killPinned(t, ll)
	// Before the health check notices, the cookie is valid and the request
	// fails on the dead server (503 after the retries, no redispatch).
	_, r := ll.get(ll.node(), cookie)
	wantTerm(t, "at once", r, "VN")
	if r.Status != 503 || r.Server != first.Server || r.Redispatched {
		t.Errorf("at once: %s/%s %d redispatched=%v, want 503 on %s", r.Backend, r.Server, r.Status, r.Redispatched, first.Server)
	}
	ll.waitMessage(ll.node(), "Server be_app/"+first.Server+" is DOWN", 5*time.Second)
	_, r = ll.get(ll.node(), cookie)
	wantTerm(t, "once DOWN", r, "DI")
	if r.Status != 200 || r.Server == first.Server {
		t.Errorf("once DOWN: %s/%s %d, want 200 elsewhere", r.Backend, r.Server, r.Status)
	}
}

func TestHAProxyLogsKilledServerWithRedispatch(t *testing.T) {
	t.Parallel()
	ll := startLogLab(t, "redispatch", nil)
	cookie, first := killPinned(t, ll)
	_, r := ll.get(ll.node(), cookie)
	wantTerm(t, "at once", r, "DI")
	if r.Status != 200 || r.Server == first.Server || !r.Redispatched {
		t.Errorf("at once: %s/%s %d redispatched=%v, want 200 elsewhere, redispatched", r.Backend, r.Server, r.Status, r.Redispatched)
	}
	ll.waitMessage(ll.node(), "Server be_app/"+first.Server+" is DOWN", 5*time.Second)
	_, r = ll.get(ll.node(), cookie)
	wantTerm(t, "once DOWN", r, "DI")
	if r.Redispatched {
		t.Errorf("once DOWN: redispatched, want a plain balance")
	}
}

func TestHAProxyLogsMaxidleExpiry(t *testing.T) {
	t.Parallel()
	ll := startLogLab(t, "textbook", func(c *lab.HAProxyConfig) { c.Cookie += " maxidle 1s" })
	set, r := ll.get(ll.node(), "")
	wantTerm(t, "first request", r, "NI")
	_, r = ll.get(ll.node(), cookiePair(set))
	wantTerm(t, "at once", r, "VN")
	// The cookie's date has 4-second resolution and is rounded up, so
	// maxidle 1s expires it only after more than about 4 s.
	time.Sleep(5 * time.Second)
	_, r = ll.get(ll.node(), cookiePair(set))
	wantTerm(t, "after 5 s idle", r, "EI")
}

func TestHAProxyLogsMaxlifeExpiry(t *testing.T) {
	t.Parallel()
	ll := startLogLab(t, "textbook", func(c *lab.HAProxyConfig) { c.Cookie += " maxlife 1s" })
	set, r := ll.get(ll.node(), "")
	wantTerm(t, "first request", r, "NI")
	// As with maxidle, the first date is rounded up to 4 s.
	time.Sleep(5 * time.Second)
	_, r = ll.get(ll.node(), cookiePair(set))
	wantTerm(t, "after 5 s", r, "OI")
}
