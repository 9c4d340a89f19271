package lab

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestReloadHandsOver(t *testing.T) {
	t.Parallel()
	l := startPresetLab(t, "textbook")
	h := l.LB.(*HAProxy)
	h.mu.Lock()
	old := h.proc
	h.mu.Unlock()
	c := freshClient(t)
	first := get(t, c, h.URL(), "")
	cookie := strings.TrimSuffix(first.setCookies[0], "; path=/")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if !old.exited() {
		t.Error("the old process still runs after Reload returned")
	}
	h.mu.Lock()
	same := h.proc == old
	h.mu.Unlock()
	if same || !h.Running() {
		t.Fatal("Reload did not hand over to a new, running process")
	}
	// Cookie persistence names the server in the cookie: nothing to lose.
	if r := get(t, c, h.URL(), cookie); r.backend != first.backend {
		t.Errorf("after reload %s went to %s, want %s", cookie, r.backend, first.backend)
	}
	if !strings.Contains(h.Logs(), "--- stickyprobe: reloading haproxy") {
		t.Error("Logs() does not show the reload")
	}
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := h.Reload(ctx); err == nil {
		t.Error("Reload of a stopped haproxy succeeded")
	}
}

// appClient is a browser of the stick-app-cookie lab: it keeps the
// application's session cookie and reports where each request landed.
type appClient struct {
	t      *testing.T
	c      *http.Client
	url    string
	cookie string
}

var appCookieRE = regexp.MustCompile(`^` + AppCookie + `=([0-9a-f]+);`)

// login makes the first request, which the backend answers with a new
// session cookie that the stick table learns.
func (a *appClient) login() string {
	a.t.Helper()
	r := get(a.t, a.c, a.url, "")
	if len(r.setCookies) != 1 || !appCookieRE.MatchString(r.setCookies[0]) {
		a.t.Fatalf("first request: Set-Cookie %q, want a new %s", r.setCookies, AppCookie)
	}
	a.cookie = AppCookie + "=" + appCookieRE.FindStringSubmatch(r.setCookies[0])[1]
	return r.backend
}

// backends sends n requests with the session cookie and returns the
// distinct backends that answered.
func (a *appClient) backends(n int) map[string]bool {
	a.t.Helper()
	seen := map[string]bool{}
	for range n {
		seen[get(a.t, a.c, a.url, a.cookie).backend] = true
	}
	return seen
}

// What HAProxy 2.6 really does with a stick table on the application's
// session cookie, measured here and pinned so a change shows up:
//
//   - a restart loses the table: sessions rotate by round robin (the app
//     does not set its cookie again, so they are never re-learned);
//   - a reload keeps it only with a peers section, and only once the old
//     process is in sync itself: a process started cold (a start or a
//     restart) waits up to 5 s for a peer to teach it, and a reload sooner
//     than that loses the table; a process that was taught by its
//     predecessor is in sync at once, so reloads in a row keep it;
//   - without peers a reload always loses it.
func TestReloadKeepsStickTableOnlyWithPeers(t *testing.T) {
	t.Parallel()
	p, _ := PresetByName("stick-app-cookie")
	noPeers := p.Config
	noPeers.Peers = false
	noPeers.BackendLines = append([]string{strings.TrimSuffix(p.Config.BackendLines[0], " peers "+PeersSection)}, p.Config.BackendLines[1:]...)

	// settle is how long a process must have run before it can hand its
	// table over (HAProxy's peers resync timeout is 5 s).
	const settle = 5500 * time.Millisecond
	restart := func(h *HAProxy, ctx context.Context) error { return h.Restart(ctx) }
	reload := func(h *HAProxy, ctx context.Context) error { return h.Reload(ctx) }
	tests := []struct {
		name    string
		cfg     HAProxyConfig
		wait    time.Duration // between the process start and the first action
		actions []func(*HAProxy, context.Context) error
		kept    bool
	}{
		{name: "restart with peers", cfg: p.Config, actions: []func(*HAProxy, context.Context) error{restart}},
		{name: "reload with peers, soon after start", cfg: p.Config, actions: []func(*HAProxy, context.Context) error{reload}},
		// A process that was taught its table by its predecessor is in
		// sync at once: it can hand it over again right away.
		{name: "reloads with peers, after sync", cfg: p.Config, wait: settle, kept: true, actions: []func(*HAProxy, context.Context) error{reload, reload}},
		{name: "reload without peers, after sync", cfg: noPeers, wait: settle, actions: []func(*HAProxy, context.Context) error{reload}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			started := time.Now()
			l := startLab(t, Options{HAProxy: tt.cfg, Backend: p.Backend})
			h := l.LB.(*HAProxy)
			a := &appClient{t: t, c: freshClient(t), url: h.URL()}
			pin := a.login()
			if seen := a.backends(4); len(seen) != 1 || !seen[pin] {
				t.Fatalf("before: the session went to %v, want only %s: the stick table does not pin", seen, pin)
			}
			time.Sleep(time.Until(started.Add(tt.wait)))
			for i, act := range tt.actions {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				err := act(h, ctx)
				cancel()
				if err != nil {
					t.Fatal(err)
				}
				seen := a.backends(6)
				switch {
				case tt.kept && (len(seen) != 1 || !seen[pin]):
					t.Fatalf("after action %d: the session went to %v, want %s: the table was not handed over\n%s", i+1, seen, pin, h.Logs())
				case !tt.kept && len(seen) < 2:
					t.Fatalf("after action %d: the session stayed on %v, want it to rotate: the table was expected lost", i+1, seen)
				}
			}
		})
	}
}

type fakeController struct{ restarts, reloads int }

func (f *fakeController) Restart(context.Context) error { f.restarts++; return nil }
func (f *fakeController) Reload(context.Context) error  { f.reloads++; return errors.New("no peers") }

func TestControlHandler(t *testing.T) {
	t.Parallel()
	f := &fakeController{}
	b, err := StartBackend("server1", BackendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	srv := httptest.NewServer(ControlHandler(f, b))
	defer srv.Close()
	for _, tt := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"POST", "/restart", 200, "restart done in"},
		{"POST", "/reload", 500, "reload failed: no peers"},
		{"GET", "/restart", 405, "use POST"},
		{"POST", "/stop", 404, ""},
		{"POST", "/backends/server1/stop", 200, "backends server1 stop done in"},
		{"POST", "/backends/server9/stop", 404, ""},
	} {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		buf := make([]byte, 512)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(b.String(), tt.body) {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.path, resp.StatusCode, b.String(), tt.status, tt.body)
		}
	}
	if f.restarts != 1 || f.reloads != 1 {
		t.Errorf("restarts %d reloads %d, want 1 and 1 (GET must not act)", f.restarts, f.reloads)
	}
	if b.Running() {
		t.Error("POST /backends/server1/stop left the backend running")
	}
	resp, err := http.Post(srv.URL+"/backends/server1/start", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !b.Running() {
		t.Errorf("start: %s, running %v; want 200 and the backend back", resp.Status, b.Running())
	}
}
