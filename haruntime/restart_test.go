package haruntime

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRealHAProxyRestartAndReloadSeenByWatcher measures what a restart
// and a reload (-sf) look like through the socket: a new Pid each time,
// the same socket path, a small uptime; and checks the Watcher records
// both as Restarts, warns (once) about polls that failed while nothing
// listened, and keeps going.
func TestRealHAProxyRestartAndReloadSeenByWatcher(t *testing.T) {
	l, h, c := startLab(t, preset(t, "textbook"))
	for i := 0; i < 5; i++ {
		get(t, l.LB.URL(), "")
	}
	sessionsBefore := statOf(t, c, "BACKEND").Sessions
	ctx := context.Background()
	path := h.StatsSocket()
	var mu sync.Mutex
	var warned []error
	w := &Watcher{Client: c, Interval: 50 * time.Millisecond, OnWarning: func(err error) {
		mu.Lock()
		warned = append(warned, err)
		mu.Unlock()
	}}
	if err := w.Watch(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	restarted := waitPidChange(t, c, before.Pid)
	// Counters start over: only the lab's readiness request is counted.
	if after := statOf(t, c, "BACKEND").Sessions; sessionsBefore < 5 || after > 1 {
		t.Errorf("backend stot %d before the restart, %d after; want >= 5, then the new process's own", sessionsBefore, after)
	}
	if h.StatsSocket() != path {
		t.Errorf("socket moved from %s to %s on restart", path, h.StatsSocket())
	}
	if restarted.UptimeS > 2 {
		t.Errorf("uptime %d s right after a restart", restarted.UptimeS)
	}
	if err := h.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	reloaded := waitPidChange(t, c, restarted.Pid)
	time.Sleep(150 * time.Millisecond) // a poll of the reloaded process
	res := w.Stop(ctx)
	t.Logf("pids %d -> %d (restart) -> %d (reload); %d polls, %d failed, warnings %v",
		before.Pid, restarted.Pid, reloaded.Pid, res.Polls, res.FailedPolls, warned)
	var pids []int
	for _, r := range res.Restarts {
		pids = append(pids, r.NewPid)
	}
	if len(pids) != 2 || pids[0] != restarted.Pid || pids[1] != reloaded.Pid || res.Restarts[0].OldPid != before.Pid {
		t.Errorf("Restarts = %+v; want %d then %d", res.Restarts, restarted.Pid, reloaded.Pid)
	}
	if res.After == nil || res.After.Info.Pid != reloaded.Pid {
		t.Errorf("After = %+v", res.After)
	}
	mu.Lock()
	defer mu.Unlock()
	checkRestartWarnings(t, warned, res)
	for _, c := range res.Changes {
		if !strings.Contains("up down starting", c.To) {
			t.Errorf("change %+v during restart", c)
		}
	}
}

func waitPidChange(t *testing.T, c *Client, old int) Info {
	t.Helper()
	for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(20 * time.Millisecond) {
		in, err := c.Info(context.Background())
		if err == nil && in.Pid != old {
			return in
		}
	}
	t.Fatalf("pid still %d after 5 s", old)
	return Info{}
}

// checkRestartWarnings: one warning per run of failed polls at most, at
// least one when a poll failed, each saying nothing listened.
func checkRestartWarnings(t *testing.T, warned []error, res *Result) {
	t.Helper()
	if len(warned) > res.FailedPolls || (res.FailedPolls > 0 && len(warned) == 0) {
		t.Errorf("%d warnings for %d failed polls", len(warned), res.FailedPolls)
	}
	for _, err := range warned {
		if !errors.Is(err, ErrUnreachable) && !errors.Is(err, ErrTimeout) {
			t.Errorf("warning %v: want unreachable or timeout while haproxy restarts", err)
		}
	}
}
