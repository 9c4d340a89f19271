package probe

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

func mustSourceIPs(t *testing.T, s string) scenarios.SourceIPs {
	t.Helper()
	p, err := scenarios.ParseSourceIPs(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFrontendPolicies(t *testing.T) {
	a, b := startLB(t, &fakeLB{sticky: true}), startLB(t, &fakeLB{sticky: true})
	for _, tt := range []struct {
		policy scenarios.FrontendPolicy
		check  func(t *testing.T, session int, fronts []string)
	}{
		{scenarios.FrontendsPin, func(t *testing.T, id int, fronts []string) {
			want := []string{a.URL + "/", b.URL + "/"}[id%2]
			for seq, f := range fronts {
				if f != want {
					t.Errorf("session %d #%d went to %s, want its pinned frontend %s", id, seq, f, want)
				}
			}
		}},
		{scenarios.FrontendsRotate, func(t *testing.T, id int, fronts []string) {
			for seq := 1; seq < len(fronts); seq++ {
				if fronts[seq] == fronts[seq-1] {
					t.Errorf("session %d: #%d and #%d both went to %s, want turns", id, seq-1, seq, fronts[seq])
				}
			}
		}},
		{scenarios.FrontendsRandom, nil},
	} {
		t.Run(string(tt.policy), func(t *testing.T) {
			spec := testSpec(t, a.URL)
			spec.URLs = append(spec.URLs, mustURL(t, b.URL))
			spec.Frontends = tt.policy
			spec.Requests = 8
			events, _, err := runAll(t, spec)
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for id, evs := range bySession(t, events) {
				var fronts []string
				for _, ev := range evs {
					fronts = append(fronts, ev.Frontend)
				}
				all = append(all, strings.Join(fronts, " "))
				if tt.check != nil {
					tt.check(t, id, fronts)
				}
			}
			if tt.policy == scenarios.FrontendsRandom {
				moved := 0
				for _, seq := range all {
					if strings.Contains(seq, a.URL) && strings.Contains(seq, b.URL) {
						moved++
					}
				}
				if moved == 0 {
					t.Errorf("random: no session used both frontends: %q", all)
				}
				// The choice is the seed's, not the workers' order.
				again, _, err := runAll(t, spec)
				if err != nil {
					t.Fatal(err)
				}
				for id, evs := range bySession(t, again) {
					for seq, ev := range evs {
						if want := frontendAt(events, id, seq); ev.Frontend != want {
							t.Errorf("random, same seed: session %d #%d went to %s, first run %s", id, seq, ev.Frontend, want)
						}
					}
				}
			}
		})
	}
}

func frontendAt(events []Event, session, seq int) string {
	for _, ev := range events {
		if ev.Session == session && ev.Seq == seq {
			return ev.Frontend
		}
	}
	return ""
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := scenarios.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// One host name, two --resolve addresses: two frontends, each reached at
// its own address, both asked for the host's name.
func TestResolveSeveralAddresses(t *testing.T) {
	lb := &fakeLB{sticky: true}
	srv := startLB(t, lb)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	ln, err := net.Listen("tcp", "127.0.0.2:"+port)
	if err != nil {
		t.Fatalf("listen on 127.0.0.2:%s: %v", port, err)
	}
	second := &http.Server{Handler: lb, ReadHeaderTimeout: 5 * time.Second}
	go second.Serve(ln)
	t.Cleanup(func() { second.Close() })

	spec := testSpec(t, "http://shop.test:"+port+"/")
	for _, addr := range []string{"127.0.0.1", "127.0.0.2"} {
		r, err := scenarios.ParseResolve("shop.test:" + port + ":" + addr)
		if err != nil {
			t.Fatal(err)
		}
		spec.Resolve = append(spec.Resolve, r)
	}
	spec.Frontends = scenarios.FrontendsRotate
	events, r, err := runAll(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.targets) != 2 {
		t.Fatalf("%d frontends, want 2", len(r.targets))
	}
	fronts := map[string]int{}
	for _, ev := range events {
		fronts[ev.Frontend]++
	}
	base := "http://shop.test:" + port + "/"
	if fronts[base+" via 127.0.0.1"] == 0 || fronts[base+" via 127.0.0.2"] == 0 || len(fronts) != 2 {
		t.Errorf("frontends %v, want both %q and %q", fronts, base+" via 127.0.0.1", base+" via 127.0.0.2")
	}
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for _, h := range lb.hosts {
		if h != "shop.test:"+port {
			t.Fatalf("Host %q, want shop.test:%s on both nodes", h, port)
		}
	}
}

// remoteIPs counts the requests per client address the LB saw.
func (lb *fakeLB) remoteIPs() map[string]int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	out := map[string]int{}
	for addr, n := range lb.remoteAddrs {
		host, _, _ := net.SplitHostPort(addr)
		out[host] += n
	}
	return out
}

func TestSourceIPs(t *testing.T) {
	lb := &fakeLB{sticky: true}
	srv := startLB(t, lb)
	for _, conn := range []scenarios.ConnPolicy{scenarios.ConnFresh, scenarios.ConnSession} {
		t.Run(string(conn), func(t *testing.T) {
			spec := testSpec(t, srv.URL)
			spec.Conn = conn
			spec.SourceIPs = mustSourceIPs(t, "127.0.0.2-127.0.0.5")
			spec.SourceMoveAfter = 2
			spec.Sessions, spec.ControlSessions, spec.Requests = 4, 2, 4
			events, r, err := runAll(t, spec)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.CheckSources(); err != nil {
				t.Errorf("CheckSources on loopback: %v", err)
			}
			for id, evs := range bySession(t, events) {
				var ips []string
				for _, ev := range evs {
					host, _, err := net.SplitHostPort(ev.Local)
					if err != nil {
						t.Fatalf("session %d #%d: local %q: %v", id, ev.Seq, ev.Local, err)
					}
					ips = append(ips, host)
				}
				var want []string
				for seq := range evs {
					i := id % 4
					switch {
					case id >= 4: // control: a new address every request
						i = (id + seq) % 4
					case seq >= 2: // moved after 2 requests
						i = (i + 1) % 4
					}
					want = append(want, fmt.Sprintf("127.0.0.%d", 2+i))
				}
				if !slices.Equal(ips, want) {
					t.Errorf("session %d came from %v, want %v", id, ips, want)
				}
			}
			seen := lb.remoteIPs()
			for ip := range seen {
				if !strings.HasPrefix(ip, "127.0.0.") || ip == "127.0.0.1" {
					t.Errorf("the LB saw a request from %s, outside the pool", ip)
				}
			}
		})
	}
}

func TestCheckSourcesUnusable(t *testing.T) {
	spec := testSpec(t, "http://127.0.0.1:1/")
	// 192.0.2.0/24 is TEST-NET-1: no machine has it, and binding a
	// socket to it sends nothing anywhere.
	spec.SourceIPs = mustSourceIPs(t, "127.0.0.2,192.0.2.7")
	r, err := NewRunner(spec)
	if err != nil {
		t.Fatal(err)
	}
	err = r.CheckSources()
	if !errors.Is(err, ErrSource) || !strings.Contains(err.Error(), "192.0.2.7") {
		t.Fatalf("CheckSources = %v, want ErrSource naming 192.0.2.7", err)
	}
}

func TestBurst(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("http2=%v", h2), func(t *testing.T) {
			lb := &fakeLB{sticky: true}
			var mu sync.Mutex
			inflight, peak := 0, 0
			conns := map[string][]string{} // the connections of requests without a cookie, per backend order
			lb.serve = func(w http.ResponseWriter, r *http.Request, backend string) {
				mu.Lock()
				inflight++
				peak = max(peak, inflight)
				if h2 && r.ProtoMajor != 2 {
					t.Errorf("request over %s, want HTTP/2", r.Proto)
				}
				if _, err := r.Cookie("SERVERID"); err != nil {
					conns[r.RemoteAddr] = append(conns[r.RemoteAddr], backend)
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond) // the others of the burst arrive meanwhile
				mu.Lock()
				inflight--
				mu.Unlock()
				w.Header().Set("X-Backend", backend)
			}
			srv := httptest.NewUnstartedServer(lb)
			if h2 {
				srv.Config.Protocols = new(http.Protocols)
				srv.Config.Protocols.SetHTTP1(true)
				srv.Config.Protocols.SetUnencryptedHTTP2(true)
			}
			srv.Start()
			t.Cleanup(srv.Close)

			spec := testSpec(t, srv.URL)
			spec.Sessions, spec.Requests, spec.Burst, spec.Concurrency = 3, 5, 3, 3
			spec.HTTP2 = h2
			events, _, err := runAll(t, spec)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 15 {
				t.Fatalf("%d events, want 3 sessions × 5", len(events))
			}
			for id, evs := range bySession(t, events) {
				for _, ev := range evs {
					if ev.Burst != (ev.Seq < 3) {
						t.Errorf("session %d #%d: burst %v", id, ev.Seq, ev.Burst)
					}
					if ev.Seq < 3 && ev.TokenSent != "" {
						t.Errorf("session %d #%d: a burst request sent the token %q; none had come back yet", id, ev.Seq, ev.TokenSent)
					}
				}
				// After the burst the session carries a cookie one of
				// the burst's responses set.
				var set []string
				for _, ev := range evs[:3] {
					set = append(set, ev.TokenSet)
				}
				if sent := evs[3].TokenSent; !slices.Contains(set, sent) {
					t.Errorf("session %d #3 sent %q, want one of the burst's %v", id, sent, set)
				}
				if bs := backendsOf(evs[:3]); len(bs) != 3 {
					t.Errorf("session %d: the burst reached %v; the round-robin LB splits 3 requests over 3", id, bs)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if peak != 3 {
				t.Errorf("at most %d requests in flight; want 3: each burst at once, and --concurrency 3 holds", peak)
			}
			for addr, list := range conns {
				switch {
				case h2 && len(list) != 3:
					t.Errorf("connection %s carried %d first requests, want a burst's 3 multiplexed on one", addr, len(list))
				case !h2 && len(list) != 1:
					t.Errorf("connection %s carried %d first requests, want a fresh connection each", addr, len(list))
				}
			}
		})
	}
}

// A burst is canceled like any request: nothing cut short is emitted.
func TestBurstStops(t *testing.T) {
	lb := &fakeLB{sticky: true, serve: func(w http.ResponseWriter, r *http.Request, backend string) {
		select { // hang until the probe gives up on the request
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}}
	srv := startLB(t, lb)
	spec := testSpec(t, srv.URL)
	spec.Burst = 3
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	events, _, err := runCtx(t, ctx, spec, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run = %v, want the context's error", err)
	}
	if len(events) != 0 {
		t.Errorf("%d events emitted from cut bursts, want none", len(events))
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stopping took %s", d)
	}
}

// --http2 --conn session: a session's requests share one HTTP/2
// connection, which outlives each request's deadline.
func TestHTTP2SessionConnection(t *testing.T) {
	lb := &fakeLB{sticky: true}
	srv := httptest.NewUnstartedServer(lb)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	spec := testSpec(t, srv.URL)
	spec.HTTP2, spec.Conn = true, scenarios.ConnSession
	spec.Sessions, spec.Requests = 3, 4
	spec.Think = 50 * time.Millisecond
	events, _, err := runAll(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	for id, evs := range bySession(t, events) {
		for _, ev := range evs {
			if ev.Error != "" || ev.Reused != (ev.Seq > 0) || ev.Local != evs[0].Local {
				t.Errorf("session %d #%d: error %q (%s), reused %v, local %s (first %s); want one connection for all",
					id, ev.Seq, ev.Error, ev.Detail, ev.Reused, ev.Local, evs[0].Local)
			}
		}
	}
	if n := len(lb.remoteIPsByConn()); n != 3 {
		t.Errorf("the LB saw %d connections, want one per session", n)
	}
}

func (lb *fakeLB) remoteIPsByConn() map[string]int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return maps.Clone(lb.remoteAddrs)
}
