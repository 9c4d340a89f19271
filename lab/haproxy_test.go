package lab

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// What HAProxy 2.6 really sends, observed against a real haproxy and pinned
// here so a behaviour change in a future HAProxy shows up as a test failure.
const expiredServerID = "SERVERID=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/"

func TestTextbookSticksOnCookie(t *testing.T) {
	t.Parallel()
	l := startPresetLab(t, "textbook")
	c := freshClient(t)
	first := get(t, c, l.LB.URL(), "")
	want := regexp.MustCompile(`^SERVERID=(s[123]); path=/$`)
	if len(first.setCookies) != 1 || !want.MatchString(first.setCookies[0]) {
		t.Fatalf("first response Set-Cookie = %q", first.setCookies)
	}
	token := want.FindStringSubmatch(first.setCookies[0])[1]
	// Token sN belongs to serverN: identity and token differ on purpose.
	if first.backend != "server"+token[1:] {
		t.Fatalf("cookie %s came from %s", token, first.backend)
	}
	for i := 0; i < 10; i++ {
		r := get(t, c, l.LB.URL(), "SERVERID="+token)
		if r.backend != first.backend {
			t.Fatalf("request %d with SERVERID=%s landed on %s, want %s", i, token, r.backend, first.backend)
		}
		if len(r.setCookies) != 0 { // `indirect`: no re-insert for a valid cookie
			t.Fatalf("request %d: unexpected Set-Cookie %q", i, r.setCookies)
		}
	}
}

func TestNoCookieSpreadsRequests(t *testing.T) {
	t.Parallel()
	l := startPresetLab(t, "no-cookie")
	c := freshClient(t)
	seen := map[string]int{}
	for i := 0; i < 12; i++ {
		r := get(t, c, l.LB.URL(), "")
		if len(r.setCookies) != 0 {
			t.Fatalf("unexpected Set-Cookie %q", r.setCookies)
		}
		seen[r.backend]++
	}
	if len(seen) != 3 || seen["server1"] == 0 || seen["server2"] == 0 || seen["server3"] == 0 {
		t.Fatalf("12 fresh requests hit %v, want all of server1..3", seen)
	}
}

// A cookie directive without server cookie values makes HAProxy 2.6 send an
// already-expired, empty SERVERID on every response, whatever the client
// sends, and nothing pins.
func TestNoServerCookieSendsExpiredCookie(t *testing.T) {
	t.Parallel()
	l := startPresetLab(t, "no-server-cookie")
	c := freshClient(t)
	seen := map[string]bool{}
	for i, cookie := range []string{"", "", "", "SERVERID=s1", "SERVERID=s1", "SERVERID="} {
		r := get(t, c, l.LB.URL(), cookie)
		if len(r.setCookies) != 1 || r.setCookies[0] != expiredServerID {
			t.Fatalf("request %d (Cookie %q): Set-Cookie = %q, want [%q]", i, cookie, r.setCookies, expiredServerID)
		}
		seen[r.backend] = true
	}
	if len(seen) < 2 {
		t.Fatalf("requests all landed on %v; without server cookies nothing should pin", seen)
	}
}

func TestCookieAttributePresets(t *testing.T) {
	t.Parallel()
	for preset, pattern := range map[string]string{
		"cookie-domain": `^SERVERID=s[123]; path=/; domain=\.example\.org$`,
		"cookie-secure": `^SERVERID=s[123]; path=/; Secure$`,
	} {
		t.Run(preset, func(t *testing.T) {
			t.Parallel()
			l := startPresetLab(t, preset)
			r := get(t, freshClient(t), l.LB.URL(), "")
			if len(r.setCookies) != 1 || !regexp.MustCompile(pattern).MatchString(r.setCookies[0]) {
				t.Fatalf("Set-Cookie = %q, want match %s", r.setCookies, pattern)
			}
		})
	}
}

func TestSingleBackendAndSource(t *testing.T) {
	t.Parallel()
	for _, preset := range []string{"single-backend", "source"} {
		t.Run(preset, func(t *testing.T) {
			t.Parallel()
			l := startPresetLab(t, preset)
			c := freshClient(t)
			first := get(t, c, l.LB.URL(), "")
			if preset == "single-backend" && first.backend != "server1" {
				t.Fatalf("single backend answered as %q", first.backend)
			}
			for i := 0; i < 6; i++ {
				r := get(t, c, l.LB.URL(), "")
				if r.backend != first.backend || len(r.setCookies) != 0 {
					t.Fatalf("request %d: %s (Set-Cookie %q), want %s and no cookie", i, r.backend, r.setCookies, first.backend)
				}
			}
		})
	}
}

func TestTCPModeProxies(t *testing.T) {
	t.Parallel()
	l := startLab(t, Options{Backends: 2, HAProxy: HAProxyConfig{Mode: "tcp"}})
	if r := get(t, freshClient(t), l.LB.URL(), ""); r.status != 200 || r.backend == "" {
		t.Fatalf("tcp mode: status=%d X-Backend=%q", r.status, r.backend)
	}
	if !strings.Contains(l.LB.(*HAProxy).Config(), "    mode tcp\n") {
		t.Fatal("config is not in tcp mode")
	}
}

func TestRestartKeepsPortAndLosesNothingElse(t *testing.T) {
	t.Parallel()
	l := startPresetLab(t, "textbook")
	h := l.LB.(*HAProxy)
	port, url, cfg := h.Port(), h.URL(), h.Config()
	if url != "http://"+loopbackAddr(port)+"/" || h.Kind() != "haproxy" {
		t.Fatalf("URL=%q Port=%d Kind=%q", url, port, h.Kind())
	}
	c := freshClient(t)
	get(t, c, url, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if h.Port() != port || h.URL() != url || h.Config() != cfg {
		t.Fatalf("Restart changed port/url/config: %d %s", h.Port(), h.URL())
	}
	if r := get(t, c, url, ""); r.backend == "" || len(r.setCookies) != 1 {
		t.Fatalf("after Restart: X-Backend=%q Set-Cookie=%q", r.backend, r.setCookies)
	}
	if n := strings.Count(h.Logs(), "--- stickyprobe: starting haproxy"); n != 2 {
		t.Fatalf("Logs() shows %d starts, want 2:\n%s", n, h.Logs())
	}
}

func TestStopIsIdempotentAndRestartRevives(t *testing.T) {
	t.Parallel()
	l := startPresetLab(t, "no-cookie")
	h := l.LB.(*HAProxy)
	h.mu.Lock()
	dir := h.dir
	h.mu.Unlock()
	for i := 0; i < 2; i++ {
		if err := h.Stop(); err != nil {
			t.Fatalf("Stop #%d: %v", i+1, err)
		}
	}
	if servedBy(loopbackAddr(h.Port()), l.Backends...) || h.Running() {
		t.Fatal("port still accepts after Stop")
	}
	if dirExists(dir) {
		t.Fatalf("temp dir %s not removed", dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if r := get(t, freshClient(t), h.URL(), ""); r.backend == "" {
		t.Fatal("no X-Backend after Restart")
	}
}

func TestReconfigure(t *testing.T) {
	t.Parallel()
	l := startPresetLab(t, "no-cookie")
	h := l.LB.(*HAProxy)
	port := h.Port()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	bad := HAProxyConfig{BackendLines: []string{"no-such-directive 1"}}
	err := h.Reconfigure(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), "no-such-directive") {
		t.Fatalf("Reconfigure(bad) = %v, want haproxy's complaint", err)
	}
	if !h.Running() {
		t.Fatal("a rejected config stopped the running haproxy")
	}

	textbook, _ := PresetByName("textbook")
	if err := h.Reconfigure(ctx, textbook.Config); err != nil {
		t.Fatal(err)
	}
	r := get(t, freshClient(t), h.URL(), "")
	if h.Port() != port || len(r.setCookies) != 1 || !strings.HasPrefix(r.setCookies[0], "SERVERID=s") {
		t.Fatalf("after Reconfigure: port %d->%d, Set-Cookie %q", port, h.Port(), r.setCookies)
	}
	if !strings.Contains(h.Config(), "cookie SERVERID insert indirect nocache") {
		t.Fatalf("Config() not updated:\n%s", h.Config())
	}
}

func TestStartHAProxyReportsConfigErrors(t *testing.T) {
	t.Parallel()
	requireHAProxy(t)
	b := startTestBackend(t, "server1", BackendOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := StartHAProxy(ctx, HAProxyConfig{BackendLines: []string{"bogus-keyword on"}}, []*Backend{b})
	if err == nil {
		h.Stop()
		t.Fatal("StartHAProxy accepted an invalid config")
	}
	for _, s := range []string{"haproxy rejected the generated config", "bogus-keyword", "[ALERT]"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}
}

func TestConcurrentUseAndStop(t *testing.T) {
	t.Parallel()
	l := startPresetLab(t, "textbook")
	c := freshClient(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if resp, err := c.Get(l.LB.URL()); err == nil {
					resp.Body.Close()
				}
				_ = l.LB.Logs()
				_ = l.LB.(*HAProxy).Config()
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	var closers sync.WaitGroup
	for i := 0; i < 3; i++ {
		closers.Add(1)
		go func() { defer closers.Done(); _ = l.LB.Stop(); _ = l.Close() }()
	}
	closers.Wait()
	close(stop)
	wg.Wait()
	if servedBy(loopbackAddr(l.LB.Port()), l.Backends...) || l.LB.(*HAProxy).Running() {
		t.Fatal("haproxy still running after concurrent Close")
	}
}

func TestStartHAProxyHonoursCancelledContext(t *testing.T) {
	t.Parallel()
	requireHAProxy(t)
	b := startTestBackend(t, "server1", BackendOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h, err := StartHAProxy(ctx, HAProxyConfig{}, []*Backend{b})
	if err == nil {
		h.Stop()
		t.Fatal("StartHAProxy succeeded with a cancelled context")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}
