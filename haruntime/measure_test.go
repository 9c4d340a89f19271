package haruntime

import (
	"context"
	"testing"
	"time"
)

// waitState polls `show servers state` every 20 ms until backend/server
// is in state, and returns how long that took (false after limit).
func waitState(t *testing.T, c *Client, server, state string, limit time.Duration) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		ss, err := c.ServersState(context.Background(), "be_app")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			if s.Server == server && s.State() == state {
				return time.Since(start), true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return limit, false
}

// TestRealHAProxyReportsDownAndUp measures, on the lab's `check inter
// 500ms` (fall 3, rise 2 by default), how long after a backend stops
// HAProxy says DOWN and after it returns UP, and checks that a Watcher
// at its default one-second poll records the outage around those times.
func TestRealHAProxyReportsDownAndUp(t *testing.T) {
	l, _, c := startLab(t, preset(t, "textbook"))
	w := &Watcher{Client: c}
	if err := w.Watch(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A server fresh from start is UP with health = rise (2) and goes
	// DOWN on one failed check; wait until it is settled at
	// rise+fall-1 (4), as in production.
	waitHealth(t, c, "server2", 4)
	be := l.Backend("server2")
	stopped := time.Now()
	if err := be.Stop(); err != nil {
		t.Fatal(err)
	}
	down, ok := waitState(t, c, "server2", "down", 5*time.Second)
	if !ok {
		t.Fatal("server2 not DOWN 5 s after its backend stopped")
	}
	started := time.Now()
	if err := be.Start(); err != nil {
		t.Fatal(err)
	}
	up, ok := waitState(t, c, "server2", "up", 5*time.Second)
	if !ok {
		t.Fatal("server2 not UP 5 s after its backend returned")
	}
	t.Logf("HAProxy said DOWN %s after the stop, UP %s after the return", down.Round(10*time.Millisecond), up.Round(10*time.Millisecond))
	// fall 3 × inter 500ms: the third failed check is 1-1.5 s after the
	// stop; rise 2: the second good check is 0.5-1 s after the return.
	if down < 900*time.Millisecond || down > 2500*time.Millisecond {
		t.Errorf("DOWN after %s, want 1-1.5 s (fall 3 × inter 500ms)", down)
	}
	if up < 400*time.Millisecond || up > 2*time.Second {
		t.Errorf("UP after %s, want 0.5-1 s (rise 2 × inter 500ms)", up)
	}
	time.Sleep(1100 * time.Millisecond) // let the watcher poll the UP state once
	res := w.Stop(context.Background())
	at, ok := res.DownAt("be_app", "server2")
	if !ok {
		t.Fatalf("the watcher saw no DOWN: %+v", res.Changes)
	}
	if d := at.Sub(stopped); d < down-50*time.Millisecond || d > down+1200*time.Millisecond {
		t.Errorf("watcher DownAt %s after the stop; HAProxy said DOWN after %s and the poll is 1 s", d, down)
	}
	outs := res.Outages()
	if len(outs) != 1 || outs[0].Server != "server2" || outs[0].State != "down" || outs[0].Up.IsZero() {
		t.Fatalf("Outages = %+v", outs)
	}
	if d := outs[0].Up.Sub(started); d < up-50*time.Millisecond || d > up+1200*time.Millisecond {
		t.Errorf("watcher saw UP %s after the return; HAProxy said UP after %s", d, up)
	}
	if _, ok := res.DownAt("be_app", "server1"); ok || len(res.Restarts) != 0 || res.FailedPolls != 0 {
		t.Errorf("unexpected: %+v", res)
	}
	if res.Polls < 3 {
		t.Errorf("%d polls in about 4 s", res.Polls)
	}
}

// waitHealth waits until server's check health counter reaches health.
func waitHealth(t *testing.T, c *Client, server string, health int) {
	t.Helper()
	for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(20 * time.Millisecond) {
		ss, err := c.ServersState(context.Background(), "be_app")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			if s.Server == server && s.CheckHealth == health {
				return
			}
		}
	}
	t.Fatalf("%s never reached check health %d", server, health)
}

// TestRealHAProxyFreshServerFallsAtFirstFailure measures the other case:
// right after HAProxy (re)starts, a server is UP at health = rise (2, not
// the settled 4) until its next good checks, and a single failed check
// marks it DOWN, well before fall × inter. (A server coming back UP
// jumps straight to the settled health, measured below: only a start
// does this.)
func TestRealHAProxyFreshServerFallsAtFirstFailure(t *testing.T) {
	l, h, c := startLab(t, preset(t, "textbook"))
	be := l.Backend("server3")
	if err := be.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, ok := waitState(t, c, "server3", "down", 5*time.Second); !ok {
		t.Fatal("server3 not DOWN")
	}
	if err := be.Start(); err != nil {
		t.Fatal(err)
	}
	if _, ok := waitState(t, c, "server3", "up", 5*time.Second); !ok {
		t.Fatal("server3 not back UP")
	}
	if s := serverState(t, c, "server3"); s.CheckHealth != 4 {
		t.Errorf("back UP at health %d, want the settled rise+fall-1 = 4", s.CheckHealth)
	}
	if err := h.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := serverState(t, c, "server3"); s.CheckHealth != 2 || s.State() != "up" {
		t.Fatalf("after a restart: %+v, want up at health rise = 2", s)
	}
	if err := be.Stop(); err != nil {
		t.Fatal(err)
	}
	down, ok := waitState(t, c, "server3", "down", 5*time.Second)
	t.Logf("server of a fresh HAProxy DOWN %s after the stop", down.Round(10*time.Millisecond))
	if !ok || down > 800*time.Millisecond {
		t.Errorf("fresh server DOWN after %s (ok=%v); want one check (≤ 500 ms + slack)", down, ok)
	}
}

func serverState(t *testing.T, c *Client, server string) ServerState {
	t.Helper()
	ss, err := c.ServersState(context.Background(), "be_app")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if s.Server == server {
			return s
		}
	}
	t.Fatalf("no %s in %+v", server, ss)
	return ServerState{}
}
