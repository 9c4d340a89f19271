package haruntime

import (
	"context"
	"testing"
	"time"
)

func statOf(t *testing.T, c *Client, server string) StatRow {
	t.Helper()
	rows, err := c.Stat(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Proxy == "be_app" && r.Name == server {
			return r
		}
	}
	t.Fatalf("no be_app/%s in show stat", server)
	return StatRow{}
}

func TestRealHAProxyRedispatchCounters(t *testing.T) {
	for _, tc := range []struct{ preset string }{{"redispatch"}, {"textbook"}} {
		t.Run(tc.preset, func(t *testing.T) {
			l, _, c := startLab(t, preset(t, tc.preset))
			waitHealth(t, c, "server1", 4)
			w := &Watcher{Client: c}
			if err := w.Watch(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := l.Backend("server1").Stop(); err != nil {
				t.Fatal(err)
			}
			// Before HAProxy notices: the cookie still names server1.
			status, by := get(t, l.LB.URL(), "SERVERID=s1")
			early := statOf(t, c, "server1")
			if _, ok := waitState(t, c, "server1", "down", 5*time.Second); !ok {
				t.Fatal("server1 not DOWN")
			}
			lateStatus, lateBy := get(t, l.LB.URL(), "SERVERID=s1")
			late, be := statOf(t, c, "server1"), statOf(t, c, "BACKEND")
			res := w.Stop(context.Background())
			t.Logf("%s: before DOWN: %d from %q, server1 wretr=%d wredis=%d; after DOWN: %d from %q, server1 wretr=%d wredis=%d, backend wretr=%d wredis=%d; Redispatches %+v",
				tc.preset, status, by, early.Wretr, early.Wredis, lateStatus, lateBy, late.Wretr, late.Wredis, be.Wretr, be.Wredis, res.Redispatches())
			if lateStatus != 200 || lateBy == "server1" || lateBy == "" {
				t.Errorf("after DOWN the s1 cookie got %d from %q; want another server", lateStatus, lateBy)
			}
			if late.Wredis != early.Wredis || late.Wretr != early.Wretr {
				t.Errorf("a cookie for a DOWN server moved counters: %+v -> %+v", early, late)
			}
			if tc.preset == "redispatch" {
				checkRedispatched(t, status, by, early, res)
			} else {
				checkNotRedispatched(t, status, early, res)
			}
		})
	}
}

// With option redispatch and retries 2 HAProxy 2.6 retries the dead
// server once, then sends the request elsewhere on the last retry: the
// client sees a 200, server1 counts wretr 1 and wredis 1.
func checkRedispatched(t *testing.T, status int, by string, early StatRow, res *Result) {
	t.Helper()
	if status != 200 || by == "server1" {
		t.Errorf("before DOWN the s1 cookie got %d from %q; want a redispatch", status, by)
	}
	if early.Wredis != 1 || early.Wretr != 1 {
		t.Errorf("server1 wretr=%d wredis=%d, want 1 and 1", early.Wretr, early.Wredis)
	}
	var onServer1 bool
	for _, r := range res.Redispatches() {
		onServer1 = onServer1 || (r.Server == "server1" && r.Wredis == 1)
	}
	if !onServer1 {
		t.Errorf("Redispatches() = %+v, want server1 with 1", res.Redispatches())
	}
}

// Without it the same request fails after its retries: a 503, wretr 2,
// no redispatch.
func checkNotRedispatched(t *testing.T, status int, early StatRow, res *Result) {
	t.Helper()
	if status != 503 {
		t.Errorf("before DOWN the s1 cookie got %d; want 503 once the retries are spent", status)
	}
	if early.Wredis != 0 || early.Wretr != 2 {
		t.Errorf("server1 wretr=%d wredis=%d, want 2 and 0", early.Wretr, early.Wredis)
	}
	for _, r := range res.Redispatches() {
		if r.Wredis != 0 {
			t.Errorf("Redispatches() = %+v without option redispatch", res.Redispatches())
		}
	}
}
