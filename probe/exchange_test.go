package probe

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/redact"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

// runTraced runs spec with exchanges recorded under rd.
func runTraced(t *testing.T, spec scenarios.Spec, rd *redact.Redactor) []Event {
	t.Helper()
	r, err := NewRunner(spec, WithTrace(Trace{Headers: true, Redactor: rd}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := make(chan Event)
	go r.Run(ctx, out) //nolint:errcheck // the events tell
	var evs []Event
	for ev := range out {
		evs = append(evs, ev)
	}
	return evs
}

func header(hs []Header, name string) []string {
	var out []string
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			out = append(out, h.Value)
		}
	}
	return out
}

// echoLB is a sticky fake LB whose backends set an application cookie
// (JSESSIONID, from fakeLB) and echo the request's Authorization, as a
// debug endpoint would.
func echoLB(t *testing.T) string {
	lb := &fakeLB{sticky: true, serve: func(w http.ResponseWriter, r *http.Request, backend string) {
		w.Header().Set("X-Backend", backend)
		w.Header().Set("X-Echo-Authorization", r.Header.Get("Authorization"))
		w.Header().Set("X-Echo-Cookie", r.Header.Get("Cookie"))
	}}
	return startLB(t, lb).URL
}

func TestTraceRecordsRedactedExchanges(t *testing.T) {
	spec := testSpec(t, echoLB(t))
	spec.Headers = []scenarios.Header{{Name: "Authorization", Value: "Bearer tok-s3cr3t-123"}}
	rd := redact.NewWithKey([]byte("test key"))
	evs := runTraced(t, spec, rd)
	if len(evs) != spec.Sessions*spec.Requests {
		t.Fatalf("%d events, want %d", len(evs), spec.Sessions*spec.Requests)
	}
	wantAuth := "Bearer " + rd.Value("tok-s3cr3t-123")
	for _, ev := range evs {
		x := ev.HTTP
		if x == nil {
			t.Fatalf("event %d/%d has no exchange", ev.Session, ev.Seq)
		}
		raw, _ := json.Marshal(ev)
		if strings.Contains(string(raw), "s3cr3t") || strings.Contains(string(raw), "app-s") {
			t.Fatalf("a secret leaked into the event: %s", raw)
		}
		if x.Method != "GET" || x.URL != ev.Frontend || x.Proto != "HTTP/1.1" || x.StatusText != "OK" {
			t.Errorf("exchange %+v: want GET of %s, HTTP/1.1 OK", x, ev.Frontend)
		}
		if host, _, _ := net.SplitHostPort(x.Remote); host != "127.0.0.1" {
			t.Errorf("remote %q, want the server's 127.0.0.1 address", x.Remote)
		}
		if got := header(x.Request, "Authorization"); len(got) != 1 || got[0] != wantAuth {
			t.Errorf("request Authorization %q, want [%q]", got, wantAuth)
		}
		if got := header(x.Response, "X-Echo-Authorization"); len(got) != 1 || got[0] != wantAuth {
			t.Errorf("echoed Authorization %q, want it scrubbed to the same %q", got, wantAuth)
		}
		if len(header(x.Request, "Host")) != 1 || len(header(x.Request, "User-Agent")) != 1 {
			t.Errorf("request headers %v: want Host and User-Agent as written", x.Request)
		}
		for _, sc := range header(x.Response, "Set-Cookie") {
			switch {
			case strings.HasPrefix(sc, "SERVERID="):
				if sc != "SERVERID="+ev.TokenSet+"; path=/" {
					t.Errorf("token Set-Cookie %q: the affinity token must stay in clear", sc)
				}
			case strings.HasPrefix(sc, "JSESSIONID="):
				if !strings.HasPrefix(sc, "JSESSIONID="+redact.Prefix) || !strings.HasSuffix(sc, "; Path=/") {
					t.Errorf("app Set-Cookie %q: want the value redacted and the attributes kept", sc)
				}
			}
		}
		if ev.Seq > 0 {
			cookie := header(x.Request, "Cookie")
			if len(cookie) != 1 || !strings.Contains(cookie[0], "SERVERID="+ev.TokenSent) || !strings.Contains(cookie[0], "JSESSIONID="+redact.Prefix) {
				t.Errorf("request Cookie %q: want SERVERID=%s in clear and JSESSIONID redacted", cookie, ev.TokenSent)
			}
		}
		tm := x.Timings
		for name, v := range map[string]int64{"blocked": tm.Blocked, "send": tm.Send, "wait": tm.Wait, "receive": tm.Receive} {
			if v < 0 {
				t.Errorf("timing %s = %d, want >= 0", name, v)
			}
		}
		if tm.Connect < 0 || tm.DNS != -1 || tm.TLS != -1 {
			t.Errorf("timings %+v: want a connect phase (fresh connections), no DNS (an IP) and no TLS", tm)
		}
		if total := tm.Blocked + tm.Connect + tm.Send + tm.Wait + tm.Receive; time.Duration(total)*time.Microsecond > ev.Latency+time.Millisecond {
			t.Errorf("phases sum to %d µs, more than the latency %v", total, ev.Latency)
		}
	}
}

func TestTraceShowSecrets(t *testing.T) {
	spec := testSpec(t, echoLB(t))
	spec.Sessions, spec.Requests = 1, 2
	spec.Headers = []scenarios.Header{{Name: "Authorization", Value: "Bearer tok-s3cr3t-123"}}
	evs := runTraced(t, spec, redact.Off())
	raw, _ := json.Marshal(evs)
	for _, want := range []string{"Bearer tok-s3cr3t-123", "JSESSIONID=app-s"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("with redaction off, %q is missing from the events", want)
		}
	}
}

func TestNoTraceNoExchange(t *testing.T) {
	spec := testSpec(t, startLB(t, &fakeLB{sticky: true}).URL)
	evs, _, err := runAll(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.HTTP != nil {
			t.Fatalf("event %d/%d carries an exchange without tracing", ev.Session, ev.Seq)
		}
	}
}

func TestTraceFailedRequest(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/"
	l.Close()
	spec := testSpec(t, dead)
	spec.Sessions, spec.Requests = 1, 1
	evs := runTraced(t, spec, nil)
	if len(evs) != 1 || evs[0].Error != ErrRefused || evs[0].HTTP == nil {
		t.Fatalf("events %+v: want one refused request with its exchange", evs)
	}
	x := evs[0].HTTP
	if x.Response != nil || x.StatusText != "" || x.Timings.Send != 0 || x.Timings.Wait != 0 || x.Timings.Blocked < 0 {
		t.Errorf("exchange of a refused request %+v: want no response, zero send/wait, blocked >= 0", x)
	}
}

func TestTargetPasswordNotRecorded(t *testing.T) {
	srv := startLB(t, &fakeLB{sticky: true})
	spec := testSpec(t, strings.Replace(srv.URL, "http://", "http://alice:hunter2hunter2@", 1))
	spec.Sessions, spec.Requests = 1, 1
	evs := runTraced(t, spec, nil)
	if len(evs) != 1 || evs[0].Error != "" {
		t.Fatalf("events %+v: want one successful request", evs)
	}
	raw, _ := json.Marshal(evs[0])
	if strings.Contains(string(raw), "hunter2") || !strings.Contains(evs[0].Frontend, "alice:redacted%3A") {
		t.Errorf("target recorded as %q: want the password redacted (event %s)", evs[0].Frontend, raw)
	}
}

// Every random choice draws from its own seeded stream: the same purpose
// and seed repeat, another purpose does not shift it.
func TestSeedStreams(t *testing.T) {
	a := &Runner{seed: 7}
	b := &Runner{seed: 7}
	c := &Runner{seed: 8}
	x, y, z := a.stream("order").Uint64(), b.stream("order").Uint64(), c.stream("order").Uint64()
	if x != y {
		t.Errorf("seed 7 gives %d then %d", x, y)
	}
	if x == z {
		t.Errorf("seeds 7 and 8 give the same draw %d", x)
	}
	if p := a.stream("path").Uint64(); p == x {
		t.Errorf("purposes order and path share a stream")
	}

	// A random seed must go back into --seed, an int64.
	spec := testSpec(t, "http://127.0.0.1:1/")
	spec.Seed = 0
	for range 200 {
		r, err := NewRunner(spec)
		if err != nil {
			t.Fatal(err)
		}
		if s := r.Seed(); s == 0 || s > math.MaxInt64 {
			t.Fatalf("random seed %d: want 1..MaxInt64", s)
		}
	}
}
