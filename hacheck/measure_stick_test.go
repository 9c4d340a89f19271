package hacheck

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
)

// stickLab is a lab HAProxy whose backends set the app's session cookie
// (APPSESSION) with values that all start alike, and a stick table that
// learns it with lines.
func stickLab(t *testing.T, lines ...string) *lab.HAProxy {
	t.Helper()
	var n atomic.Int64
	opts := lab.BackendOptions{AppCookie: lab.AppCookie, AppCookieValue: func() string {
		return fmt.Sprintf("sessionprefix%019d", n.Add(1)) // 32 bytes, the first 13 shared
	}}
	var backends []*lab.Backend
	for i := 1; i <= 3; i++ {
		b, err := lab.StartBackend(fmt.Sprintf("server%d", i), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Stop() })
		backends = append(backends, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := lab.HAProxyConfig{BackendLines: append(lines,
		"stick store-response res.cook("+lab.AppCookie+")", "stick match req.cook("+lab.AppCookie+")")}
	h, err := lab.StartHAProxy(ctx, cfg, backends)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	return h
}

// appSession starts a user: its first response's backend and cookie.
func appSession(t *testing.T, h *lab.HAProxy) (backend, cookie string) {
	t.Helper()
	be, _, resp := get(t, h, "GET", "")
	for _, c := range resp.Cookies() {
		if c.Name == lab.AppCookie {
			return be, c.Name + "=" + c.Value
		}
	}
	t.Fatalf("no %s cookie from %s", lab.AppCookie, be)
	return "", ""
}

// pinned counts how many of the users are still sent to their first
// backend.
func pinned(t *testing.T, h *lab.HAProxy, users [][2]string) int {
	n := 0
	for _, u := range users {
		if be, _, _ := get(t, h, "GET", u[1]); be == u[0] {
			n++
		}
	}
	return n
}

// TestMeasuredStickKeyTruncated: with `len 8` the table keeps the first
// 8 bytes of each session id; ids sharing them share one entry, which the
// latest user overwrites, so the earlier users are sent elsewhere
// (token-ignored). With `len 64` every user keeps their server.
func TestMeasuredStickKeyTruncated(t *testing.T) {
	for _, tt := range []struct {
		length   string
		allStick bool
	}{{"8", false}, {"64", true}} {
		h := stickLab(t, "stick-table type string len "+tt.length+" size 1k expire 5m")
		var users [][2]string
		for i := 0; i < 6; i++ {
			be, ck := appSession(t, h)
			users = append(users, [2]string{be, ck})
		}
		get(t, h, "GET", "") // shift round robin: only the table keeps users in place
		n := pinned(t, h, users)
		if tt.allStick != (n == len(users)) {
			t.Errorf("len %s: %d of %d users kept their server", tt.length, n, len(users))
		}
		t.Logf("len %s: %d of %d users kept their server", tt.length, n, len(users))
		h.Stop()
	}
}

// TestMeasuredStickTableFull: a table of `size 2` keeps the latest two
// users; the earlier ones lose their entry and are balanced again
// (token-ignored: they send their cookie, another server answers).
func TestMeasuredStickTableFull(t *testing.T) {
	h := stickLab(t, "stick-table type string len 64 size 2 expire 5m")
	var users [][2]string
	for i := 0; i < 6; i++ {
		be, ck := appSession(t, h)
		users = append(users, [2]string{be, ck})
	}
	last := pinned(t, h, users[4:])
	// Balanced again, the early users would land where round robin
	// sent them first: one request without a cookie shifts it, so only
	// a table entry keeps a user in place.
	get(t, h, "GET", "")
	early := pinned(t, h, users[:4])
	if last != 2 || early != 0 {
		t.Errorf("size 2: the last 2 users kept their server %d times, the first 4 %d times", last, early)
	}
	t.Logf("size 2, 6 users: the first 4 kept their server %d times, the last 2 %d", early, last)
}

// TestMeasuredStickExpire: an entry idle longer than `expire` is gone; its
// user is balanced again.
func TestMeasuredStickExpire(t *testing.T) {
	h := stickLab(t, "stick-table type string len 64 size 1k expire 1s")
	var users [][2]string
	for i := 0; i < 3; i++ {
		be, ck := appSession(t, h)
		users = append(users, [2]string{be, ck})
	}
	get(t, h, "GET", "")
	if n := pinned(t, h, users); n != 3 {
		t.Fatalf("within expire: %d of 3 kept their server", n)
	}
	time.Sleep(2 * time.Second)
	get(t, h, "GET", "")
	if n := pinned(t, h, users); n != 0 {
		t.Errorf("2 s after, with expire 1s: %d of 3 kept their server, want 0", n)
	}
}
