package lab

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requireLB fails (never skips) when kind's binary is missing.
func requireLB(t *testing.T, kind string) {
	t.Helper()
	if _, err := FindLB(kind); err != nil {
		t.Fatal(err)
	}
}

// startLBLab starts three backends and the load balancer cfg describes.
func startLBLab(t *testing.T, cfg LBConfig, opts BackendOptions) *Lab {
	t.Helper()
	requireLB(t, cfg.LBKind())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l, err := Start(ctx, Options{LB: cfg, Backend: opts})
	if err != nil {
		t.Fatalf("Start %s: %v", cfg.LBKind(), err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// serverHeader is what each kind says in the Server header it adds (the
// backends send none): what --lb auto detection relies on.
var serverHeader = map[string]string{"nginx": "nginx/", "caddy": "Caddy", "apache": "Apache/"}

func TestOtherLBsStartReloadRestart(t *testing.T) {
	for _, cfg := range []LBConfig{NginxConfig{}, CaddyConfig{}, ApacheConfig{}} {
		t.Run(cfg.LBKind(), func(t *testing.T) {
			t.Parallel()
			l := startLBLab(t, cfg, BackendOptions{})
			n := l.LB.(Node)
			check := func(when string) {
				t.Helper()
				resp, err := freshClient(t).Get(n.URL())
				if err != nil {
					t.Fatalf("%s: %v", when, err)
				}
				resp.Body.Close()
				if l.Backend(resp.Header.Get("X-Backend")) == nil || !strings.HasPrefix(resp.Header.Get("Server"), serverHeader[n.Kind()]) {
					t.Fatalf("%s: X-Backend %q, Server %q", when, resp.Header.Get("X-Backend"), resp.Header.Get("Server"))
				}
			}
			check("started")
			port := n.Port()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := n.Reload(ctx); err != nil {
				t.Fatal(err)
			}
			check("reloaded")
			if err := n.Restart(ctx); err != nil {
				t.Fatal(err)
			}
			check("restarted")
			if n.Port() != port || !strings.Contains(n.Logs(), "stickyprobe: reloading "+n.Kind()) ||
				strings.Count(n.Logs(), "stickyprobe: starting "+n.Kind()) != 2 {
				t.Errorf("port %d→%d, logs:\n%s", port, n.Port(), n.Logs())
			}
			if err := n.Stop(); err != nil {
				t.Fatal(err)
			}
			if err := n.Stop(); err != nil {
				t.Fatalf("second Stop: %v", err)
			}
			if servedBy(loopbackAddr(port), l.Backends...) {
				t.Errorf("%s still proxies on %d after Stop", n.Kind(), port)
			}
			if err := n.Reload(ctx); err == nil {
				t.Error("Reload of a stopped node succeeded")
			}
		})
	}
}

// A config the tool rejects fails Start with the tool's own words, and a
// value that would break out of its line never reaches the tool.
func TestOtherLBsRejectBadConfigs(t *testing.T) {
	backends, err := StartBackends(2, BackendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer StopBackends(backends)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range []struct {
		cfg  LBConfig
		want string
	}{
		{NginxConfig{Upstream: []string{"no_such_directive on"}}, "nginx rejected the generated config"},
		{CaddyConfig{LBPolicy: "no_such_policy"}, "caddy rejected the generated config"},
		{ApacheConfig{ProxySet: "no_such_param=1"}, "apache rejected the generated config"},
		{NginxConfig{Upstream: []string{"ip_hash; } server { listen 0.0.0.0:80"}}, "no braces"},
		{CaddyConfig{Proxy: []string{"}\n:80 {"}}, "no braces"},
		{ApacheConfig{SetCookie: "x\"\nListen 0.0.0.0:80"}, "no quotes"},
		{NginxConfig{BindAddr: "10.0.0.1"}, "127.0.0.0/8"},
		{ApacheConfig{Servers: 3}, "Servers=3"},
	} {
		requireLB(t, tc.cfg.LBKind())
		n, err := StartNode(ctx, tc.cfg, backends)
		if err == nil {
			n.Stop()
			t.Errorf("%#v started", tc.cfg)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%#v: %v; want %q", tc.cfg, err, tc.want)
		}
	}
}

// Caddy 2.6's cookie policy: the value is hex(HMAC-SHA256(secret, the
// upstream's dial address)), so it names no server and changes with the
// secret.
func TestCaddyCookieValueIsHMACOfUpstream(t *testing.T) {
	l := startLBLab(t, CaddyConfig{LBPolicy: "cookie lb " + CaddySecret}, BackendOptions{})
	c := freshClient(t)
	seen := map[string]bool{}
	for i := 0; i < 12; i++ {
		r := get(t, c, l.LB.URL(), "")
		b := l.Backend(r.backend)
		if b == nil || len(r.setCookies) != 1 {
			t.Fatalf("reply %+v", r)
		}
		mac := hmac.New(sha256.New, []byte(CaddySecret))
		mac.Write([]byte(b.Addr()))
		want := "lb=" + hex.EncodeToString(mac.Sum(nil)) + "; Path=/"
		if r.setCookies[0] != want {
			t.Fatalf("%s set %q, want %q", r.backend, r.setCookies[0], want)
		}
		seen[r.backend] = true
		// Sent back, the cookie pins; Caddy sets it again only for a new pick.
		if again := get(t, c, l.LB.URL(), strings.TrimSuffix(want, "; Path=/")); again.backend != r.backend || len(again.setCookies) != 0 {
			t.Fatalf("with its cookie: %+v, want %s and no new cookie", again, r.backend)
		}
	}
	if len(seen) < 2 {
		t.Errorf("12 new users all on %v", seen)
	}
}

// Apache 2.4's mod_proxy_balancer reads the route after the first "." of
// the stickysession cookie: ".s2" pins to route s2, "s2" is no route at
// all, so the balancer picks again and (BALANCER_ROUTE_CHANGED) the config
// sets a new cookie on every response.
func TestApacheRouteNeedsTheDot(t *testing.T) {
	good := startLBLab(t, ApacheConfig{StickySession: "ROUTEID", SetCookie: apacheRouteCookie}, BackendOptions{})
	bad := startLBLab(t, ApacheConfig{StickySession: "ROUTEID", SetCookie: "ROUTEID=%{BALANCER_WORKER_ROUTE}e; path=/"}, BackendOptions{})
	c := freshClient(t)
	r := get(t, c, good.LB.URL(), "")
	if len(r.setCookies) != 1 || r.setCookies[0] != "ROUTEID=.s"+r.backend[len("server"):]+"; path=/" {
		t.Fatalf("good: %+v, want ROUTEID=.sN for serverN", r)
	}
	for i := 0; i < 6; i++ {
		if again := get(t, c, good.LB.URL(), "ROUTEID=.s2"); again.backend != "server2" || len(again.setCookies) != 0 {
			t.Fatalf("ROUTEID=.s2: %+v, want server2 and no new cookie", again)
		}
	}
	served := map[string]bool{}
	for i := 0; i < 9; i++ {
		again := get(t, c, bad.LB.URL(), "ROUTEID=s2")
		served[again.backend] = true
		if len(again.setCookies) != 1 || !strings.HasPrefix(again.setCookies[0], "ROUTEID=s") {
			t.Fatalf("ROUTEID=s2: %+v, want a fresh ROUTEID=sN", again)
		}
	}
	if len(served) < 2 {
		t.Errorf("ROUTEID=s2 always went to %v: want it ignored", served)
	}
}

// sourceClient sends every request from src.
func sourceClient(t *testing.T, src string) *http.Client {
	t.Helper()
	ip := net.ParseIP(src)
	if ip == nil {
		t.Fatalf("source %q is no address", src)
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 2 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 3 * time.Second}
}

// nginx 1.22's ip_hash keys on the first three octets: every address of a
// /24 lands on one server, addresses of different /24s spread.
func TestNginxIPHashKeysOnThreeOctets(t *testing.T) {
	l := startLBLab(t, NginxConfig{Upstream: []string{"ip_hash"}}, BackendOptions{})
	oneNet, manyNets := map[string]bool{}, map[string]bool{}
	for i := 2; i < 22; i++ {
		oneNet[get(t, sourceClient(t, "127.0.9."+strconv.Itoa(i)), l.LB.URL(), "").backend] = true
		manyNets[get(t, sourceClient(t, "127.0."+strconv.Itoa(i)+".9"), l.LB.URL(), "").backend] = true
	}
	if len(oneNet) != 1 || len(manyNets) < 3 {
		t.Errorf("20 addresses of one /24 on %v (want one server), of 20 /24s on %v (want all three)", oneNet, manyNets)
	}
}

// Over https Caddy 2.6.2 sets the very same cookie: no Secure, no
// SameSite=None.
func TestCaddyCookieOverTLS(t *testing.T) {
	l := startLBLab(t, CaddyConfig{LBPolicy: "cookie lb " + CaddySecret, TLS: true}, BackendOptions{})
	if !strings.HasPrefix(l.LB.URL(), "https://") {
		t.Fatalf("URL %s, want https", l.LB.URL())
	}
	tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: labServerName}}
	defer tr.CloseIdleConnections()
	for i := 0; i < 6; i++ {
		r := get(t, &http.Client{Transport: tr, Timeout: 3 * time.Second}, l.LB.URL(), "")
		b := l.Backend(r.backend)
		if b == nil || len(r.setCookies) != 1 {
			t.Fatalf("reply %+v", r)
		}
		mac := hmac.New(sha256.New, []byte(CaddySecret))
		mac.Write([]byte(b.Addr()))
		if want := "lb=" + hex.EncodeToString(mac.Sum(nil)) + "; Path=/"; r.setCookies[0] != want {
			t.Fatalf("over https %s set %q, want %q", r.backend, r.setCookies[0], want)
		}
	}
}

func TestStartBackendsNamesThemInOrder(t *testing.T) {
	bs, err := StartBackends(3, BackendOptions{AppCookie: AppCookie})
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range bs {
		if want := "server" + strconv.Itoa(i+1); b.Name() != want || !b.Running() {
			t.Errorf("backend %d: %s running=%v, want %s running", i, b.Name(), b.Running(), want)
		}
		if r := get(t, freshClient(t), "http://"+b.Addr()+"/", ""); r.backend != b.Name() || len(r.setCookies) != 1 {
			t.Errorf("%s answered %+v", b.Name(), r)
		}
	}
	if err := StopBackends(bs); err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Running() {
			t.Errorf("%s still running after StopBackends", b.Name())
		}
	}
	if _, err := StartBackends(2, BackendOptions{AppCookie: "bad name"}); err == nil {
		t.Error("StartBackends with an invalid AppCookie succeeded")
	}
}

// nginx 1.22's `hash ... consistent` places servers on a ring by their
// address: reordering the server lines moves nobody, removing one moves
// only its users. Plain `hash` is modulo the server list: a reorder or a
// removal moves users of the other servers too.
func TestNginxHashConsistentIgnoresOrder(t *testing.T) {
	requireLB(t, "nginx")
	bs, err := StartBackends(3, BackendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer StopBackends(bs)
	mapping := func(upstream string, set []*Backend) []string {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n, err := StartNginx(ctx, NginxConfig{Upstream: []string{upstream}}, set)
		if err != nil {
			t.Fatal(err)
		}
		defer n.Stop()
		var got []string
		for i := 2; i < 42; i++ {
			got = append(got, get(t, sourceClient(t, "127.0.0."+strconv.Itoa(i)), n.URL(), "").backend)
		}
		return got
	}
	moved := func(a, b []string, except string) (n int) {
		for i := range a {
			if a[i] != b[i] && a[i] != except {
				n++
			}
		}
		return n
	}
	reversed := []*Backend{bs[2], bs[1], bs[0]}
	for _, tc := range []struct {
		upstream   string
		consistent bool
	}{{"hash $remote_addr consistent", true}, {"hash $remote_addr", false}} {
		base := mapping(tc.upstream, bs)
		reorder, removed := moved(base, mapping(tc.upstream, reversed), ""), moved(base, mapping(tc.upstream, bs[:2]), "server3")
		t.Logf("%s: a reorder moved %d of 40 users, removing server3 moved %d users of the others", tc.upstream, reorder, removed)
		if tc.consistent && (reorder != 0 || removed != 0) {
			t.Errorf("%s: want nobody moved by a reorder, and only server3's users by its removal", tc.upstream)
		}
		if !tc.consistent && (reorder == 0 || removed == 0) {
			t.Errorf("%s: want a reorder and a removal to move users of the other servers", tc.upstream)
		}
	}
}
