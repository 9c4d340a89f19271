package haruntime

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
)

// These tests talk to the real HAProxy of the lab (2.6.12 here) through
// the stats socket its config gets with StatsSocket.

func startLab(t *testing.T, cfg lab.HAProxyConfig) (*lab.Lab, *lab.HAProxy, *Client) {
	t.Helper()
	if _, err := lab.FindHAProxy(); err != nil {
		t.Fatal(err) // a missing haproxy fails the test: it must not pass by skipping
	}
	cfg.StatsSocket = true
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	l, err := lab.Start(ctx, lab.Options{HAProxy: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	h := l.LB.(*lab.HAProxy)
	sock := h.StatsSocket()
	if rest, ok := strings.CutPrefix(sock, "ipv4@"); ok {
		sock = "tcp:" + rest
	}
	addr, err := ParseAddr(sock)
	if err != nil {
		t.Fatal(err)
	}
	return l, h, NewClient(addr)
}

func preset(t *testing.T, name string) lab.HAProxyConfig {
	p, ok := lab.PresetByName(name)
	if !ok {
		t.Fatalf("no preset %s", name)
	}
	return p.Config
}

// get sends one request on a new connection, with cookie as the Cookie
// header when not empty, and returns the status and X-Backend.
func get(t *testing.T, url, cookie string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Backend")
}

func TestRealHAProxyInfoServersStat(t *testing.T) {
	_, h, c := startLab(t, preset(t, "textbook"))
	ctx := context.Background()
	in, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "HAProxy" || !strings.HasPrefix(in.Version, "2.") || in.Pid <= 0 {
		t.Errorf("Info = %+v", in)
	}
	ss, err := c.ServersState(ctx, "be_app")
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 3 {
		t.Fatalf("%d servers, want 3: %+v", len(ss), ss)
	}
	for i, s := range ss {
		if s.Backend != "be_app" || s.Server != "server"+string(rune('1'+i)) {
			t.Errorf("server %d = %+v", i, s)
		}
	}
	if _, err := c.ServersState(ctx, "nosuch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ServersState(nosuch) = %v, want ErrNotFound", err)
	}
	rows, err := c.Stat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := CookieMap(rows)
	want := map[string]string{"s1": "server1", "s2": "server2", "s3": "server3"}
	if len(m["be_app"]) != 3 {
		t.Fatalf("CookieMap = %v", m)
	}
	for k, v := range want {
		if m["be_app"][k] != v {
			t.Errorf("cookie %s names %q, want %s", k, m["be_app"][k], v)
		}
	}
	if ts, err := c.Tables(ctx); err != nil || len(ts) != 0 {
		t.Errorf("Tables without stick tables = %+v, %v", ts, err)
	}
	if !strings.Contains(h.Config(), "stats socket "+h.StatsSocket()+" mode 600 level operator") {
		t.Errorf("config lacks the stats socket line:\n%s", h.Config())
	}
}

// stickSource is a backend that sticks on the client address.
func stickSource() lab.HAProxyConfig {
	return lab.HAProxyConfig{BackendLines: []string{"stick-table type ip size 1k expire 10m", "stick on src"}}
}

func TestRealHAProxyTableAndLookup(t *testing.T) {
	l, _, c := startLab(t, stickSource())
	ctx := context.Background()
	_, served := get(t, l.LB.URL(), "")
	tb, err := c.Table(ctx, "be_app")
	if err != nil {
		t.Fatal(err)
	}
	if tb.Type != "ip" || tb.Used != 1 || len(tb.Entries) != 1 {
		t.Fatalf("Table = %+v", tb)
	}
	e := tb.Entries[0]
	if e.Key != "127.0.0.1" || e.Server != served || e.ServerID < 1 || e.ExpMS <= 0 {
		t.Errorf("entry = %+v; the request was served by %s", e, served)
	}
	got, ok, err := c.Lookup(ctx, "be_app", "127.0.0.1")
	if err != nil || !ok || got.Server != served {
		t.Errorf("Lookup(127.0.0.1) = %+v, %v, %v", got, ok, err)
	}
	if _, ok, err := c.Lookup(ctx, "be_app", "127.0.0.9"); err != nil || ok {
		t.Errorf("Lookup(127.0.0.9) = %v, %v; want not found", ok, err)
	}
	if _, err := c.Table(ctx, "nosuch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Table(nosuch) = %v, want ErrNotFound", err)
	}
}

// TestRealHAProxyLevelUser measures what `level user` hides in 2.6: stick
// table contents (a dump says "not dumped", a key lookup "Permission
// denied"), while show info, show servers state and show stat with the
// cookie column all answer.
func TestRealHAProxyLevelUser(t *testing.T) {
	cfg := stickSource()
	cfg.StatsLevel = "user"
	l, _, c := startLab(t, cfg)
	ctx := context.Background()
	get(t, l.LB.URL(), "")
	if _, err := c.Info(ctx); err != nil {
		t.Errorf("Info at level user: %v", err)
	}
	if ss, err := c.ServersState(ctx, ""); err != nil || len(ss) != 3 {
		t.Errorf("ServersState at level user: %d, %v", len(ss), err)
	}
	if _, err := c.Stat(ctx); err != nil {
		t.Errorf("Stat at level user: %v", err)
	}
	ts, err := c.Tables(ctx)
	if err != nil || len(ts) != 1 || ts[0].Used != 1 {
		t.Errorf("Tables at level user = %+v, %v; want the table line", ts, err)
	}
	if _, err := c.Table(ctx, "be_app"); !errors.Is(err, ErrPermission) {
		t.Errorf("Table at level user = %v, want ErrPermission", err)
	}
	if _, _, err := c.Lookup(ctx, "be_app", "127.0.0.1"); !errors.Is(err, ErrPermission) {
		t.Errorf("Lookup at level user = %v, want ErrPermission", err)
	}
}

// TestRealHAProxyOverTCP: `stats socket ipv4@127.0.0.1:PORT` answers
// --haproxy-socket tcp:127.0.0.1:PORT the same way.
func TestRealHAProxyOverTCP(t *testing.T) {
	port := closedPort(t)
	cfg := preset(t, "textbook")
	cfg.StatsSocketPath = "ipv4@" + port
	_, h, _ := startLab(t, cfg)
	if h.StatsSocket() != "ipv4@"+port {
		t.Fatalf("StatsSocket() = %q", h.StatsSocket())
	}
	addr, err := ParseAddr("tcp:" + port)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(addr)
	in, err := c.Info(context.Background())
	if err != nil || in.Name != "HAProxy" {
		t.Fatalf("Info over TCP = %+v, %v", in, err)
	}
	if ss, err := c.ServersState(context.Background(), ""); err != nil || len(ss) != 3 {
		t.Errorf("ServersState over TCP: %d, %v", len(ss), err)
	}
}
