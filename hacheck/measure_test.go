package hacheck

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
)

// labHAProxy starts three lab backends and a real HAProxy with cfg in
// front of them; both stop with the test.
func labHAProxy(t *testing.T, cfg lab.HAProxyConfig) (*lab.HAProxy, []*lab.Backend) {
	t.Helper()
	var backends []*lab.Backend
	for i := 1; i <= 3; i++ {
		b, err := lab.StartBackend("server"+strconv.Itoa(i), lab.BackendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Stop() })
		backends = append(backends, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := lab.StartHAProxy(ctx, cfg, backends)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	return h, backends
}

// get sends one request without a cookie jar: a fresh connection, the
// given Cookie header, and returns the backend and the Set-Cookie lines.
func get(t *testing.T, h *lab.HAProxy, method, cookie string, header ...string) (backend string, setCookie []string, resp *http.Response) {
	t.Helper()
	req, err := http.NewRequest(method, h.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("X-Backend"), resp.Header.Values("Set-Cookie"), resp
}

// The tests below measure what HAProxy 2.6 does with the settings the
// checks warn about; the findings' words rest on them.

// TestMeasuredNoServerCookie: with a `cookie` line but no `cookie` value
// on the servers (and with `dynamic` but no dynamic-cookie-key), HAProxy
// 2.6 answers every request with the cookie expired, so nothing pins:
// no-token.
func TestMeasuredNoServerCookie(t *testing.T) {
	for _, c := range []lab.HAProxyConfig{
		{Cookie: "SERVERID insert indirect nocache"},
		{Cookie: "SERVERID insert indirect nocache dynamic"},
	} {
		h, _ := labHAProxy(t, c)
		seen := map[string]bool{}
		for i := 0; i < 6; i++ {
			be, sc, _ := get(t, h, "GET", "SERVERID=s1")
			seen[be] = true
			if len(sc) != 1 || !strings.HasPrefix(sc[0], "SERVERID=; Expires=Thu, 01-Jan-1970") {
				t.Errorf("%q: Set-Cookie %q, want the cookie expired", c.Cookie, sc)
			}
		}
		if len(seen) < 2 {
			t.Errorf("%q: every request went to %v although nothing pins", c.Cookie, seen)
		}
		h.Stop()
	}
	// The same with a key: the cookie values are made from it and pin.
	h, _ := labHAProxy(t, lab.HAProxyConfig{Cookie: "SERVERID insert indirect nocache dynamic", BackendLines: []string{"dynamic-cookie-key k1"}})
	be, sc, _ := get(t, h, "GET", "")
	if len(sc) != 1 || strings.HasPrefix(sc[0], "SERVERID=;") {
		t.Fatalf("dynamic with a key: Set-Cookie %q", sc)
	}
	for i := 0; i < 4; i++ {
		if be2, _, _ := get(t, h, "GET", strings.SplitN(sc[0], ";", 2)[0]); be2 != be {
			t.Errorf("dynamic with a key: pinned to %s, answered by %s", be, be2)
		}
	}
}

// TestMeasuredPostonly: `postonly` inserts the cookie on POST responses
// only, so a session of GETs is never pinned: no-token.
func TestMeasuredPostonly(t *testing.T) {
	h, _ := labHAProxy(t, lab.HAProxyConfig{Cookie: "SERVERID insert indirect postonly", ServerCookies: true})
	for i := 0; i < 3; i++ {
		if _, sc, _ := get(t, h, "GET", ""); len(sc) != 0 {
			t.Errorf("GET: Set-Cookie %q, want none", sc)
		}
	}
	if _, sc, _ := get(t, h, "POST", ""); len(sc) != 1 || !strings.HasPrefix(sc[0], "SERVERID=s") {
		t.Errorf("POST: Set-Cookie %q, want SERVERID", sc)
	}
}

// TestMeasuredMaxidle: a cookie idle longer than `maxidle` is ignored and
// the user is balanced again with a new cookie: token-reassigned. HAProxy
// dates cookies in steps of a few seconds and refreshes the date of a
// cookie still valid, so the test polls for the move instead of sleeping
// a fixed time.
func TestMeasuredMaxidle(t *testing.T) {
	h, _ := labHAProxy(t, lab.HAProxyConfig{Cookie: "SERVERID insert indirect nocache maxidle 1s", ServerCookies: true})
	be, sc, _ := get(t, h, "GET", "")
	if len(sc) != 1 {
		t.Fatalf("Set-Cookie %q", sc)
	}
	ck := strings.SplitN(sc[0], ";", 2)[0]
	set := time.Now()
	if be2, sc2, _ := get(t, h, "GET", ck); be2 != be || len(sc2) != 0 {
		t.Fatalf("within maxidle: %s %q, want %s and no new cookie", be2, sc2, be)
	}
	refreshed := 0
	for deadline := set.Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		be2, sc2, _ := get(t, h, "GET", ck) // the same old cookie every time
		switch {
		case be2 == be && len(sc2) == 1:
			refreshed++ // same server, the cookie's date renewed
		case be2 != be:
			if len(sc2) != 1 || !strings.HasPrefix(sc2[0], "SERVERID=s") || strings.HasPrefix(sc2[0], ck) {
				t.Fatalf("moved to %s without a new cookie: %q", be2, sc2)
			}
			if since := time.Since(set); since < time.Second {
				t.Fatalf("moved %v after the cookie was set, before maxidle 1s", since)
			}
			t.Logf("maxidle 1s: the cookie was ignored %v after it was set (%d refreshes before)", time.Since(set).Round(100*time.Millisecond), refreshed)
			return
		}
	}
	t.Fatal("a cookie idle for 15 s with maxidle 1s still pinned its user")
}

// TestMeasuredSameSiteNone: HAProxy sends attr "SameSite=None" without
// Secure as written (and haproxy -c says nothing): only a browser, which
// refuses such a cookie, shows the mistake.
func TestMeasuredSameSiteNone(t *testing.T) {
	h, _ := labHAProxy(t, lab.HAProxyConfig{Cookie: `SERVERID insert indirect nocache attr "SameSite=None"`, ServerCookies: true})
	_, sc, _ := get(t, h, "GET", "")
	if len(sc) != 1 || !strings.Contains(sc[0], "SameSite=None") || strings.Contains(strings.ToLower(sc[0]), "secure") {
		t.Errorf("Set-Cookie %q, want SameSite=None without Secure", sc)
	}
}

// TestMeasuredHashRemap: with map-based hashing (the default hash-type),
// a server going down moves users of the servers that stayed up; with
// hash-type consistent only its own users move.
func TestMeasuredHashRemap(t *testing.T) {
	for _, consistent := range []bool{false, true} {
		cfg := lab.HAProxyConfig{Balance: "hdr(X-User)"}
		if consistent {
			cfg.BackendLines = []string{"hash-type consistent"}
		}
		h, backends := labHAProxy(t, cfg)
		users := 60
		before := map[string]string{}
		for u := 0; u < users; u++ {
			be, _, _ := get(t, h, "GET", "", "X-User", "user"+strconv.Itoa(u))
			before["user"+strconv.Itoa(u)] = be
		}
		backends[2].Stop()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) { // until the health check takes server3 out
			if be, _, resp := get(t, h, "GET", "", "X-User", userOn(before, "server3")); be != "" && resp.StatusCode == 200 {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		movedHealthy := 0
		for u, was := range before {
			if be, _, _ := get(t, h, "GET", "", "X-User", u); was != "server3" && be != was {
				movedHealthy++
			}
		}
		if consistent && movedHealthy != 0 || !consistent && movedHealthy == 0 {
			t.Errorf("hash-type consistent=%v: %d users of healthy servers moved when server3 went down", consistent, movedHealthy)
		}
		t.Logf("hash-type consistent=%v: %d of %d users of healthy servers moved", consistent, movedHealthy, users)
		h.Stop()
	}
}

func userOn(m map[string]string, backend string) string {
	for u, be := range m {
		if be == backend {
			return u
		}
	}
	return "nobody"
}
