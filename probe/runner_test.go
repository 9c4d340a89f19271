package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// fakeLB is an in-process load balancer in front of three named backends.
// It round-robins requests that do not carry a valid SERVERID cookie; in
// sticky mode it also sets SERVERID=<backend> on them (after an
// application cookie, as an app behind HAProxy would) and honours the
// cookie afterwards, like HAProxy's `cookie SERVERID insert indirect`.
type fakeLB struct {
	sticky bool
	// serve, if set, replaces the default answer after the backend is
	// chosen; it may set headers and write the body.
	serve func(w http.ResponseWriter, r *http.Request, backend string)

	mu          sync.Mutex
	next        int
	requests    int
	withCookie  int
	hosts       []string
	headers     []http.Header
	remoteAddrs map[string]int
}

var lbBackends = []string{"s1", "s2", "s3"}

func (lb *fakeLB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	backend := ""
	cookie, err := r.Cookie("SERVERID")
	if lb.sticky && err == nil && slices.Contains(lbBackends, cookie.Value) {
		backend = cookie.Value
	}
	lb.mu.Lock()
	lb.requests++
	if err == nil {
		lb.withCookie++
	}
	lb.hosts = append(lb.hosts, r.Host)
	lb.headers = append(lb.headers, r.Header.Clone())
	if lb.remoteAddrs == nil {
		lb.remoteAddrs = make(map[string]int)
	}
	lb.remoteAddrs[r.RemoteAddr]++
	if backend == "" {
		backend = lbBackends[lb.next%len(lbBackends)]
		lb.next++
		if lb.sticky {
			w.Header().Add("Set-Cookie", "JSESSIONID=app-"+backend+"; Path=/")
			w.Header().Add("Set-Cookie", "SERVERID="+backend+"; path=/")
		}
	}
	lb.mu.Unlock()
	if lb.serve != nil {
		lb.serve(w, r, backend)
		return
	}
	w.Header().Set("X-Backend", backend)
	fmt.Fprintf(w, "served by %s\n", backend)
}

func (lb *fakeLB) stats() (requests, withCookie int) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.requests, lb.withCookie
}

func startLB(t *testing.T, lb *fakeLB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(lb)
	t.Cleanup(srv.Close)
	return srv
}

// testSpec is a small, fast, deterministic spec against rawURL.
func testSpec(t *testing.T, rawURL string) scenarios.Spec {
	t.Helper()
	u, err := scenarios.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	s := scenarios.Default()
	s.URLs = []*url.URL{u}
	s.Sessions = 6
	s.ControlSessions = 0
	s.Requests = 3
	s.Concurrency = 4
	s.Rate = 0
	s.Timeout = 5 * time.Second
	s.MaxDuration = 15 * time.Second
	s.Seed = 1
	return s
}

// runAll runs spec to the end and returns its events and Run's error.
func runAll(t *testing.T, spec scenarios.Spec) ([]Event, *Runner, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return runCtx(t, ctx, spec, nil)
}

// runCtx runs spec under ctx; each event is passed to onEvent (if any) as
// it arrives.
func runCtx(t *testing.T, ctx context.Context, spec scenarios.Spec, onEvent func(Event)) ([]Event, *Runner, error) {
	t.Helper()
	r, err := NewRunner(spec)
	if err != nil {
		t.Fatalf("NewRunner: %v", err)
	}
	out := make(chan Event)
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx, out) }()
	var events []Event
	for ev := range out {
		events = append(events, ev)
		if onEvent != nil {
			onEvent(ev)
		}
	}
	return events, r, <-errc
}

// bySession groups events by session id, checking that each session's
// events come in order of Seq.
func bySession(t *testing.T, events []Event) map[int][]Event {
	t.Helper()
	m := make(map[int][]Event)
	for _, ev := range events {
		prev := m[ev.Session]
		if want := len(prev); ev.Seq != want {
			t.Errorf("session %d: event seq %d, want %d", ev.Session, ev.Seq, want)
		}
		m[ev.Session] = append(prev, ev)
	}
	return m
}

func backendsOf(evs []Event) []string {
	var bs []string
	for _, ev := range evs {
		if !slices.Contains(bs, ev.Backend) {
			bs = append(bs, ev.Backend)
		}
	}
	return bs
}

func TestRunStickyLB(t *testing.T) {
	lb := &fakeLB{sticky: true}
	srv := startLB(t, lb)
	spec := testSpec(t, srv.URL)
	spec.Sessions = 9
	spec.ControlSessions = 3
	spec.Requests = 4
	events, r, err := runAll(t, spec)
	if err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if got, want := len(events), r.Total(); got != want || want != (9+3)*4 {
		t.Fatalf("got %d events, want Total() = %d = 48", got, want)
	}
	if got := r.TokenName(); got != "SERVERID" {
		t.Errorf("TokenName() = %q, want SERVERID learned over JSESSIONID", got)
	}
	sessions := bySession(t, events)
	if len(sessions) != 12 {
		t.Fatalf("got events of %d sessions, want 12", len(sessions))
	}
	for id, evs := range sessions {
		control := id >= spec.Sessions
		for _, ev := range evs {
			if ev.Control != control {
				t.Errorf("session %d seq %d: Control = %v, want %v", id, ev.Seq, ev.Control, control)
			}
			if ev.Error != "" || ev.Status != http.StatusOK || ev.Backend == "" {
				t.Errorf("session %d seq %d: error %q status %d backend %q", id, ev.Seq, ev.Error, ev.Status, ev.Backend)
			}
			if ev.Frontend != srv.URL+"/" {
				t.Errorf("session %d: Frontend = %q, want %q", id, ev.Frontend, srv.URL+"/")
			}
			if ev.Reused {
				t.Errorf("session %d seq %d: Reused under --conn fresh", id, ev.Seq)
			}
			if control {
				if ev.TokenSent != "" || ev.TokenHeld {
					t.Errorf("control session %d seq %d: TokenSent %q TokenHeld %v, want none", id, ev.Seq, ev.TokenSent, ev.TokenHeld)
				}
				if ev.TokenSet == "" {
					t.Errorf("control session %d seq %d: TokenSet empty; the LB sets it on every cookieless request", id, ev.Seq)
				}
				continue
			}
			if ev.TokenName != "SERVERID" {
				t.Errorf("session %d seq %d: TokenName = %q, want SERVERID", id, ev.Seq, ev.TokenName)
			}
			switch {
			case ev.Seq == 0 && (ev.TokenSent != "" || ev.TokenHeld || ev.TokenSet != ev.Backend):
				t.Errorf("session %d first request: sent %q held %v set %q, want none, false, %q", id, ev.TokenSent, ev.TokenHeld, ev.TokenSet, ev.Backend)
			case ev.Seq > 0 && (ev.TokenSent != ev.Backend || !ev.TokenHeld || ev.TokenSet != ""):
				t.Errorf("session %d seq %d: sent %q held %v set %q, want %q, true, none", id, ev.Seq, ev.TokenSent, ev.TokenHeld, ev.TokenSet, ev.Backend)
			}
			if ev.TokenRefused != "" || ev.TokenDeleted {
				t.Errorf("session %d seq %d: refused %q deleted %v", id, ev.Seq, ev.TokenRefused, ev.TokenDeleted)
			}
		}
		if bs := backendsOf(evs); !control && len(bs) != 1 {
			t.Errorf("measured session %d saw backends %v, want one", id, bs)
		}
	}
	// Server side: measured sessions send the cookie from their 2nd
	// request on; control sessions never do.
	requests, withCookie := lb.stats()
	if requests != 48 || withCookie != 9*3 {
		t.Errorf("LB saw %d requests, %d with a cookie; want 48, %d", requests, withCookie, 9*3)
	}
}

func TestRunRoundRobinSwitchesDespiteMultipleOfServers(t *testing.T) {
	// 3k sessions visited in a fixed order would each land on the same
	// one of 3 round-robin servers every round and look sticky. The
	// shuffled order must make them switch.
	lb := &fakeLB{}
	srv := startLB(t, lb)
	spec := testSpec(t, srv.URL)
	spec.Sessions = 12
	spec.ControlSessions = 0
	spec.Requests = 4
	spec.Concurrency = 1
	events, _, err := runAll(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	switched := 0
	for _, evs := range bySession(t, events) {
		if len(backendsOf(evs)) > 1 {
			switched++
		}
	}
	if switched < spec.Sessions/2 {
		t.Errorf("%d of %d sessions switched backend under plain round robin, want most", switched, spec.Sessions)
	}
}

// roundOrders returns the session ids of each round, in the order their
// requests were sent (Concurrency 1 serialises them).
func roundOrders(t *testing.T, events []Event, perRound int) [][]int {
	t.Helper()
	var rounds [][]int
	for i, ev := range events {
		if i%perRound == 0 {
			rounds = append(rounds, nil)
		}
		if ev.Seq != i/perRound {
			t.Fatalf("event %d is seq %d of session %d, want seq %d: rounds overlap", i, ev.Seq, ev.Session, i/perRound)
		}
		rounds[len(rounds)-1] = append(rounds[len(rounds)-1], ev.Session)
	}
	return rounds
}

func TestRunOrderShuffledPerRoundAndSeeded(t *testing.T) {
	srv := startLB(t, &fakeLB{})
	spec := testSpec(t, srv.URL)
	spec.Sessions = 10
	spec.ControlSessions = 2
	spec.Requests = 2
	spec.Concurrency = 1
	spec.Seed = 42

	events, r, err := runAll(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	if r.Seed() != 42 {
		t.Errorf("Seed() = %d, want 42", r.Seed())
	}
	rounds := roundOrders(t, events, 12)
	if len(rounds) != 2 {
		t.Fatalf("got %d rounds, want 2", len(rounds))
	}
	for i, ids := range rounds {
		sorted := slices.Sorted(slices.Values(ids))
		if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}; !slices.Equal(sorted, want) {
			t.Errorf("round %d visits %v, want every session once", i, ids)
		}
	}
	if slices.Equal(rounds[0], rounds[1]) {
		t.Errorf("rounds 0 and 1 have the same order %v, want a new shuffle each round", rounds[0])
	}
	if slices.IsSorted(rounds[0]) {
		t.Errorf("round 0 in id order %v, want shuffled", rounds[0])
	}

	again, _, err := runAll(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := roundOrders(t, again, 12); !slices.Equal(got[0], rounds[0]) || !slices.Equal(got[1], rounds[1]) {
		t.Errorf("same seed, orders %v then %v, want the same", rounds, got)
	}

	spec.Seed = 0
	r0, err := NewRunner(spec)
	if err != nil {
		t.Fatal(err)
	}
	if r0.Seed() == 0 {
		t.Error("Seed 0: Seed() = 0, want a random seed that can be reported")
	}
}

func TestRunnerTotal(t *testing.T) {
	tests := []struct {
		name                       string
		sessions, control, request int
		want                       int
	}{
		{name: "auto control minimum", sessions: 10, control: -1, request: 5, want: (10 + 3) * 5},
		{name: "auto control 10%", sessions: 50, control: -1, request: 10, want: (50 + 5) * 10},
		{name: "no control", sessions: 10, control: 0, request: 5, want: 50},
		{name: "explicit control", sessions: 4, control: 2, request: 1, want: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := testSpec(t, "http://127.0.0.1:1/")
			spec.Sessions, spec.ControlSessions, spec.Requests = tt.sessions, tt.control, tt.request
			r, err := NewRunner(spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Total(); got != tt.want {
				t.Errorf("Total() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestNewRunnerRejectsInvalidSpec(t *testing.T) {
	spec := testSpec(t, "http://127.0.0.1:1/")
	spec.Sessions = 0
	if _, err := NewRunner(spec); !errors.Is(err, scenarios.ErrInvalid) {
		t.Errorf("NewRunner(Sessions 0) = %v, want ErrInvalid", err)
	}
}

func TestRunRespectsRate(t *testing.T) {
	srv := startLB(t, &fakeLB{})
	spec := testSpec(t, srv.URL)
	spec.Sessions = 4
	spec.Requests = 5
	spec.Concurrency = 4
	spec.Rate = 100 // 20 requests, 10 ms apart: the last one 190 ms after the first
	start := time.Now()
	events, _, err := runAll(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 20 {
		t.Fatalf("got %d events, want 20", len(events))
	}
	// A lower bound only: the machine may be slow, the pacer must not be fast.
	if d, want := time.Since(start), 180*time.Millisecond; d < want {
		t.Errorf("20 requests at 100/s took %v, want at least %v", d, want)
	}
	first, last := events[0].Start, events[0].Start
	for _, ev := range events {
		if ev.Start.Before(first) {
			first = ev.Start
		}
		if ev.Start.After(last) {
			last = ev.Start
		}
	}
	if d, want := last.Sub(first), 180*time.Millisecond; d < want {
		t.Errorf("requests started over %v, want at least %v", d, want)
	}
}

func TestRunThinkTime(t *testing.T) {
	srv := startLB(t, &fakeLB{})
	spec := testSpec(t, srv.URL)
	spec.Sessions = 2
	spec.Requests = 3
	spec.Think = 40 * time.Millisecond
	events, _, err := runAll(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	for id, evs := range bySession(t, events) {
		for i := 1; i < len(evs); i++ {
			if gap := evs[i].Start.Sub(evs[i-1].Start); gap < spec.Think {
				t.Errorf("session %d: requests %d and %d %v apart, want at least the think time %v", id, i-1, i, gap, spec.Think)
			}
		}
	}
}

// slowLB answers after delay, or when the client goes away.
func slowLB(t *testing.T, delay time.Duration) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
			w.Header().Set("X-Backend", "slow")
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRunMaxDuration(t *testing.T) {
	srv := slowLB(t, 10*time.Second)
	spec := testSpec(t, srv.URL)
	spec.MaxDuration = 200 * time.Millisecond
	events, _, err := runAll(t, spec)
	if !errors.Is(err, ErrMaxDuration) {
		t.Fatalf("Run = %v, want ErrMaxDuration", err)
	}
	for _, ev := range events {
		if ev.Error == ErrCanceled {
			t.Errorf("event of session %d seq %d canceled: requests cut by the cap must not be emitted", ev.Session, ev.Seq)
		}
	}
}

func TestRunCanceled(t *testing.T) {
	// The first 5 requests are answered, then the LB hangs; the test
	// cancels the run once it has seen 5 events.
	var mu sync.Mutex
	served := 0
	lb := &fakeLB{serve: func(w http.ResponseWriter, r *http.Request, backend string) {
		mu.Lock()
		served++
		n := served
		mu.Unlock()
		if n > 5 {
			<-r.Context().Done()
			return
		}
		w.Header().Set("X-Backend", backend)
	}}
	srv := startLB(t, lb)
	spec := testSpec(t, srv.URL)
	spec.Concurrency = 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := 0
	events, _, err := runCtx(t, ctx, spec, func(Event) {
		if seen++; seen == 5 {
			// Give the worker time to block in the 6th request.
			time.AfterFunc(50*time.Millisecond, cancel)
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if len(events) != 5 {
		t.Errorf("got %d events, want the 5 answered ones", len(events))
	}
	for _, ev := range events {
		if ev.Error != "" {
			t.Errorf("session %d seq %d: error %q; a canceled request must not be emitted", ev.Session, ev.Seq, ev.Error)
		}
	}
}

func TestRunConnPolicy(t *testing.T) {
	tests := []struct {
		conn scenarios.ConnPolicy
		// reused says whether the request of seq should go over a reused
		// connection; nil = either.
		reused func(seq int) *bool
	}{
		{conn: scenarios.ConnFresh, reused: func(int) *bool { return ptr(false) }},
		{conn: scenarios.ConnSession, reused: func(seq int) *bool { return ptr(seq > 0) }},
		{conn: scenarios.ConnShared, reused: func(int) *bool { return nil }},
	}
	for _, tt := range tests {
		t.Run(string(tt.conn), func(t *testing.T) {
			lb := &fakeLB{}
			srv := startLB(t, lb)
			spec := testSpec(t, srv.URL)
			spec.Conn = tt.conn
			spec.Sessions = 4
			spec.Requests = 4
			spec.Concurrency = 2
			events, _, err := runAll(t, spec)
			if err != nil {
				t.Fatal(err)
			}
			reused := 0
			for _, ev := range events {
				if ev.Local == "" || !strings.HasPrefix(ev.Local, "127.0.0.1:") {
					t.Errorf("session %d seq %d: Local = %q, want a 127.0.0.1 address", ev.Session, ev.Seq, ev.Local)
				}
				if ev.Reused {
					reused++
				}
				if want := tt.reused(ev.Seq); want != nil && ev.Reused != *want {
					t.Errorf("--conn %s: session %d seq %d Reused = %v, want %v", tt.conn, ev.Session, ev.Seq, ev.Reused, *want)
				}
			}
			lb.mu.Lock()
			conns := len(lb.remoteAddrs)
			lb.mu.Unlock()
			t.Logf("--conn %s: %d of %d requests reused a connection; the LB saw %d client addresses", tt.conn, reused, len(events), conns)
			switch tt.conn {
			case scenarios.ConnSession:
				if conns != spec.Sessions {
					t.Errorf("--conn session: the LB saw %d client connections, want one per session (%d)", conns, spec.Sessions)
				}
			case scenarios.ConnShared:
				// Not "at most Concurrency": a worker may dial while its last
				// connection is still on its way back to the idle pool.
				if reused == 0 || conns >= len(events) {
					t.Errorf("--conn shared: %d reused, %d connections for %d requests; want reuse", reused, conns, len(events))
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestRunResolveAndHeaders(t *testing.T) {
	tests := []struct {
		name     string
		headers  []string
		wantHost func(port string) string
	}{
		{name: "Host from the URL", headers: []string{"X-Test: yes"}, wantHost: func(port string) string { return "app.test:" + port }},
		{name: "Host overridden", headers: []string{"X-Test: yes", "Host: other.test"}, wantHost: func(string) string { return "other.test" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lb := &fakeLB{}
			srv := startLB(t, lb)
			_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			spec := testSpec(t, "http://app.test:"+port+"/")
			res, err := scenarios.ParseResolve("app.test:" + port + ":127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			spec.Resolve = []scenarios.Resolve{res}
			for _, raw := range tt.headers {
				h, err := scenarios.ParseHeader(raw)
				if err != nil {
					t.Fatal(err)
				}
				spec.Headers = append(spec.Headers, h)
			}
			spec.Sessions, spec.Requests = 1, 2
			events, _, err := runAll(t, spec)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range events {
				if ev.Error != "" || ev.Backend == "" {
					t.Errorf("seq %d: error %q (%s), backend %q", ev.Seq, ev.Error, ev.Detail, ev.Backend)
				}
				if want := "http://app.test:" + port + "/"; ev.Frontend != want {
					t.Errorf("Frontend = %q, want %q", ev.Frontend, want)
				}
			}
			lb.mu.Lock()
			defer lb.mu.Unlock()
			if len(lb.hosts) != 2 {
				t.Fatalf("LB saw %d requests, want 2", len(lb.hosts))
			}
			for i, host := range lb.hosts {
				if want := tt.wantHost(port); host != want {
					t.Errorf("request %d: Host %q, want %q", i, host, want)
				}
				h := lb.headers[i]
				if got := h.Get("X-Test"); got != "yes" {
					t.Errorf("request %d: X-Test = %q, want yes", i, got)
				}
				if got := h.Get("User-Agent"); got != "stickyprobe" {
					t.Errorf("request %d: User-Agent = %q, want stickyprobe", i, got)
				}
				if got := h.Values("Host"); len(got) != 0 {
					t.Errorf("request %d: Host also sent as a header field %q", i, got)
				}
			}
		})
	}
}

func TestRunIdentify(t *testing.T) {
	tests := []struct {
		name     string
		id       string
		token    string
		sticky   bool
		serve    func(w http.ResponseWriter, r *http.Request, backend string)
		wantSame bool // every event's backend is the one the LB chose
		wantNone bool // no event has a backend
	}{
		{
			name: "body regex with group",
			id:   `body:Hostname: (\w+)`,
			serve: func(w http.ResponseWriter, _ *http.Request, b string) {
				fmt.Fprintf(w, "<html><p>Hostname: %s</p></html>", b)
			},
			wantSame: true,
		},
		{
			name: "body regex without group",
			id:   `body:s[0-9]`,
			serve: func(w http.ResponseWriter, _ *http.Request, b string) {
				fmt.Fprintf(w, "served by %s.", b)
			},
			wantSame: true,
		},
		{
			name:     "body regex no match",
			id:       `body:Hostname: (\w+)`,
			serve:    func(w http.ResponseWriter, _ *http.Request, b string) { fmt.Fprint(w, "hello") },
			wantNone: true,
		},
		{
			name: "header named",
			id:   "header:X-Served-By",
			serve: func(w http.ResponseWriter, _ *http.Request, b string) {
				w.Header().Set("X-Backend", "decoy")
				w.Header().Set("X-Served-By", b)
			},
			wantSame: true,
		},
		{
			name:   "cookie with HAProxy prefix",
			id:     "cookie:SRV",
			token:  "cookie:SRV",
			sticky: true,
			serve: func(w http.ResponseWriter, r *http.Request, b string) {
				if _, err := r.Cookie("SRV"); err != nil {
					w.Header().Add("Set-Cookie", "SRV="+b+"~a1b2c3; path=/")
				}
			},
			wantSame: true,
		},
		{
			// The token's value is opaque; the identity is another cookie.
			name:  "cookie other than the token",
			id:    "cookie:BACKEND",
			token: "cookie:SERVERID",
			serve: func(w http.ResponseWriter, r *http.Request, b string) {
				w.Header().Add("Set-Cookie", "SERVERID=opaque-"+strings.Repeat("x", len(r.Cookies()))+"; path=/")
				w.Header().Add("Set-Cookie", "BACKEND="+b+"; path=/")
			},
			wantSame: true,
		},
		{
			name:  "cookie with source persistence",
			id:    "cookie:BACKEND",
			token: "source",
			serve: func(w http.ResponseWriter, r *http.Request, b string) {
				w.Header().Add("Set-Cookie", "BACKEND="+b+"; path=/")
			},
			wantSame: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The LB records the backend it chose per request, in order;
			// with Concurrency 1 that is the order of the events.
			var mu sync.Mutex
			var chosen []string
			lb := &fakeLB{sticky: tt.sticky, serve: func(w http.ResponseWriter, r *http.Request, b string) {
				mu.Lock()
				chosen = append(chosen, b)
				mu.Unlock()
				tt.serve(w, r, b)
			}}
			srv := startLB(t, lb)
			spec := testSpec(t, srv.URL)
			spec.Concurrency = 1
			var err error
			if spec.Identify, err = scenarios.ParseIdentify(tt.id); err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				if spec.Token, err = scenarios.ParseToken(tt.token); err != nil {
					t.Fatal(err)
				}
			}
			events, _, err := runAll(t, spec)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(chosen) != len(events) {
				t.Fatalf("%d events for %d requests", len(events), len(chosen))
			}
			for i, ev := range events {
				switch {
				case tt.wantSame && ev.Backend != chosen[i]:
					t.Errorf("session %d seq %d: Backend = %q, want %q", ev.Session, ev.Seq, ev.Backend, chosen[i])
				case tt.wantNone && ev.Backend != "":
					t.Errorf("session %d seq %d: Backend = %q, want none", ev.Session, ev.Seq, ev.Backend)
				}
			}
		})
	}
}

func TestRunTokenDeletedByLB(t *testing.T) {
	// HAProxy 2.6 with `cookie SERVERID insert` but server lines without
	// `cookie <value>` expires the cookie on every response.
	lb := &fakeLB{serve: func(w http.ResponseWriter, _ *http.Request, b string) {
		w.Header().Set("X-Backend", b)
		w.Header().Add("Set-Cookie", "SERVERID=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/")
	}}
	srv := startLB(t, lb)
	events, r, err := runAll(t, testSpec(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if r.TokenName() != "SERVERID" {
		t.Errorf("TokenName() = %q, want SERVERID", r.TokenName())
	}
	for _, ev := range events {
		if !ev.TokenDeleted || ev.TokenSet != "" || ev.TokenSent != "" || ev.TokenHeld || ev.TokenRefused != "" {
			t.Errorf("session %d seq %d: deleted %v set %q sent %q held %v refused %q; want deleted only",
				ev.Session, ev.Seq, ev.TokenDeleted, ev.TokenSet, ev.TokenSent, ev.TokenHeld, ev.TokenRefused)
		}
	}
}

func TestRunTokenRefused(t *testing.T) {
	tests := []struct {
		name string
		// host is the name the probe uses for the LB; it resolves to
		// 127.0.0.1 either way.
		host        string
		attrs       string
		wantRefused Refusal
	}{
		{name: "secure over http on a real host name", host: "app.test", attrs: "; Secure", wantRefused: RefusedSecure},
		{name: "secure over http on 127.0.0.1 is sent", host: "127.0.0.1", attrs: "; Secure"},
		{name: "domain of another site", host: "app.test", attrs: "; Domain=other.test", wantRefused: RefusedDomain},
		{name: "domain is a public suffix", host: "app.co.uk", attrs: "; Domain=co.uk", wantRefused: RefusedPublicSuffix},
		{name: "path narrower than the app", host: "app.test", attrs: "; Path=/app", wantRefused: RefusedPath},
		{name: "expired with a value", host: "app.test", attrs: "; Max-Age=0", wantRefused: RefusedExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lb := &fakeLB{serve: func(w http.ResponseWriter, r *http.Request, b string) {
				w.Header().Set("X-Backend", b)
				if _, err := r.Cookie("SERVERID"); err != nil {
					w.Header().Add("Set-Cookie", "SERVERID="+b+tt.attrs)
				}
			}}
			srv := startLB(t, lb)
			_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
			spec := testSpec(t, "http://"+net.JoinHostPort(tt.host, port)+"/")
			spec.Resolve = []scenarios.Resolve{{Host: tt.host, Port: atoi(t, port), Addr: "127.0.0.1"}}
			events, _, err := runAll(t, spec)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range events {
				if ev.Error != "" {
					t.Fatalf("session %d seq %d: %s %s", ev.Session, ev.Seq, ev.Error, ev.Detail)
				}
				wantSent := tt.wantRefused == "" && ev.Seq > 0
				if (ev.TokenSent != "") != wantSent || ev.TokenHeld != wantSent {
					t.Errorf("session %d seq %d: sent %q held %v, want sent and held %v", ev.Session, ev.Seq, ev.TokenSent, ev.TokenHeld, wantSent)
				}
				if ev.Seq == 0 || tt.wantRefused != "" {
					if ev.TokenRefused != tt.wantRefused {
						t.Errorf("session %d seq %d: TokenRefused = %q, want %q", ev.Session, ev.Seq, ev.TokenRefused, tt.wantRefused)
					}
				}
			}
		})
	}
}

func TestRunTokenExpiredAfterHeld(t *testing.T) {
	// The LB sets the token, then expires it with a value (a bad maxlife
	// or clock skew): the jar drops it, so the session no longer holds it.
	lb := &fakeLB{serve: func(w http.ResponseWriter, r *http.Request, b string) {
		w.Header().Set("X-Backend", b)
		if _, err := r.Cookie("SERVERID"); err != nil {
			w.Header().Add("Set-Cookie", "SERVERID="+b+"; path=/")
		} else {
			w.Header().Add("Set-Cookie", "SERVERID="+b+"; path=/; Max-Age=0")
		}
	}}
	srv := startLB(t, lb)
	spec := testSpec(t, srv.URL)
	spec.Sessions = 2
	spec.Requests = 4
	events, _, err := runAll(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	for id, evs := range bySession(t, events) {
		// seq 0 sets, seq 1 sends and gets it expired, seq 2 holds
		// nothing and sets again, seq 3 sends again.
		wantHeld := []bool{false, true, false, true}
		wantRefused := []Refusal{"", RefusedExpired, "", RefusedExpired}
		for i, ev := range evs {
			if ev.TokenHeld != wantHeld[i] || ev.TokenRefused != wantRefused[i] {
				t.Errorf("session %d seq %d: held %v refused %q, want %v %q", id, i, ev.TokenHeld, ev.TokenRefused, wantHeld[i], wantRefused[i])
			}
		}
	}
}

func TestRunServerErrors(t *testing.T) {
	lb := &fakeLB{serve: func(w http.ResponseWriter, _ *http.Request, b string) {
		w.Header().Set("X-Backend", b)
		w.WriteHeader(http.StatusServiceUnavailable)
	}}
	srv := startLB(t, lb)
	events, _, err := runAll(t, testSpec(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Status != http.StatusServiceUnavailable || ev.Error != ErrHTTP5xx || !ev.Failed() || ev.Backend == "" {
			t.Errorf("session %d seq %d: status %d error %q failed %v backend %q", ev.Session, ev.Seq, ev.Status, ev.Error, ev.Failed(), ev.Backend)
		}
	}
}

func TestRunUnreachable(t *testing.T) {
	spec := testSpec(t, "http://"+closedPort(t)+"/")
	events, r, err := runAll(t, spec)
	if err != nil {
		t.Fatalf("Run = %v; a target that refuses is reported in events, not as Run's error", err)
	}
	if len(events) != r.Total() {
		t.Fatalf("got %d events, want %d", len(events), r.Total())
	}
	for _, ev := range events {
		if ev.Error != ErrRefused || ev.Detail == "" || ev.Status != 0 {
			t.Errorf("session %d seq %d: error %q detail %q status %d, want refused", ev.Session, ev.Seq, ev.Error, ev.Detail, ev.Status)
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRunResolveIgnoresHostCase(t *testing.T) {
	// ParseResolve lower-cases the host, but net/http dials the URL's
	// host as typed: a mixed-case URL must still use the override, not DNS.
	lb := &fakeLB{}
	srv := startLB(t, lb)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	spec := testSpec(t, "http://APP.Test:"+port+"/")
	res, err := scenarios.ParseResolve("app.test:" + port + ":127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	spec.Resolve = []scenarios.Resolve{res}
	spec.Sessions, spec.Requests = 1, 1
	r, err := NewRunner(spec)
	if err != nil {
		t.Fatal(err)
	}
	// Should the override be missed, fail the lookup here rather than
	// send a query off the machine.
	r.dialer.Resolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("test: no DNS")
	}}
	out := make(chan Event, r.Total())
	if err := r.Run(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	for ev := range out {
		if ev.Error != "" {
			t.Errorf("seq %d: %s (%s), want the request sent to the --resolve address", ev.Seq, ev.Error, ev.Detail)
		}
	}
	if requests, _ := lb.stats(); requests != 1 {
		t.Errorf("LB saw %d requests, want 1", requests)
	}
}

// With a think time every session waits its own timer, so without jitter
// the sessions would keep the first round's order for the whole run (the
// shuffle only orders the dispatch), and a round-robin LB could hand each
// control session the same backend every time.
func TestThinkTimeDoesNotFreezeTheOrder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", "s1")
	}))
	t.Cleanup(srv.Close)
	spec := testSpec(t, srv.URL)
	spec.Sessions, spec.Requests, spec.Concurrency = 6, 10, 8
	spec.Think = 40 * time.Millisecond
	spec.Rate = 200 // the pacer grants in the order sessions woke: the order of the round before
	spec.ControlSessions = 0
	events, _, err := runAll(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	order := map[int][]int{} // seq → sessions in the order they started
	sort.Slice(events, func(i, j int) bool { return events[i].Start.Before(events[j].Start) })
	for _, ev := range events {
		order[ev.Seq] = append(order[ev.Seq], ev.Session)
	}
	// With a random order a session keeps its place of round 1 in about
	// one round in six; a frozen order keeps most places.
	place := func(seq, session int) int { return slices.Index(order[seq], session) }
	moved, all := 0, 0
	for seq := 2; seq < spec.Requests; seq++ {
		for session := range spec.Sessions {
			all++
			if place(seq, session) != place(1, session) {
				moved++
			}
		}
	}
	if moved*2 < all {
		t.Errorf("only %d of %d places changed after round 1 (%v): think times must not freeze the order", moved, all, order)
	}
}

// A round-robin LB that balances only unpinned requests, with as many
// control sessions as backends, hands each control session the backend of
// its place among the control requests of a round: if that order stayed,
// no control session would switch and a sticky LB would look as if the
// probe could not see breakage (inconclusive). The control sessions'
// order rotates each round, so every one of them switches.
func TestControlSessionsSwitchBehindRoundRobin(t *testing.T) {
	for seed := int64(1); seed <= 40; seed++ {
		lb := &fakeLB{sticky: true}
		srv := startLB(t, lb)
		spec := testSpec(t, srv.URL)
		spec.Sessions, spec.Requests, spec.ControlSessions, spec.Concurrency, spec.Seed = 6, 3, 3, 1, seed
		events, _, err := runAll(t, spec)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]map[string]bool{}
		for _, ev := range events {
			if ev.Control {
				if seen[ev.Session] == nil {
					seen[ev.Session] = map[string]bool{}
				}
				seen[ev.Session][ev.Backend] = true
			}
		}
		for id, bs := range seen {
			if len(bs) < 2 {
				t.Errorf("seed %d: control session %d saw only %v", seed, id, bs)
			}
		}
	}
}
