package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
)

// These tests run the probe against real nginx, Caddy and Apache in front
// of the lab's backends: each good and broken setup gets the verdict and
// cause it must, restarts and reloads keep what they should, and two nodes
// agree or not.

// startOtherLB starts three backends and the load balancer cfg describes,
// stopped when the test ends. A missing binary fails the test.
func startOtherLB(t *testing.T, cfg lab.LBConfig, opts lab.BackendOptions) *lab.Lab {
	t.Helper()
	if _, err := lab.FindLB(cfg.LBKind()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l, err := lab.Start(ctx, lab.Options{LB: cfg, Backend: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func lbPreset(t *testing.T, name string) lab.LBPreset {
	t.Helper()
	p, ok := lab.LBPresetByName(name)
	if !ok {
		t.Fatalf("no lab preset %q", name)
	}
	return p
}

func startPreset(t *testing.T, name string) *lab.Lab {
	t.Helper()
	p := lbPreset(t, name)
	return startOtherLB(t, p.Config, p.Backend)
}

// The address pools: 40 addresses of one /24, and 40 of 40 /24s.
const oneNet = "127.0.0.2-127.0.0.41"

var tokenValue = map[string]*regexp.Regexp{
	"lb":      regexp.MustCompile(`^[0-9a-f]{64}$`), // Caddy: an HMAC-SHA256 in hex
	"ROUTEID": regexp.MustCompile(`^\.s[1-3]$`),     // Apache: "." and the route
}

func TestOtherLBsVerdicts(t *testing.T) {
	t.Parallel()
	type check func(t *testing.T, rep *report.Report, res probeResult)
	for _, tc := range []struct {
		preset string
		args   []string
		want   report.Verdict
		cause  report.Cause // every broken session's cause
		check  check
	}{
		{"nginx-hash-cookie", []string{"--sessions", "60", "--token", "cookie:" + lab.AppCookie}, report.Fail, report.CauseTokenIgnored, checkHashCookie},
		{"nginx-hash-remote-addr", []string{"--token", "source", "--source-ips", oneNet}, report.Pass, "", spreadOver(2)},
		{"nginx-ip-hash", []string{"--token", "source", "--source-ips", labSources24()}, report.Pass, "", spreadOver(2)},
		{"nginx-ip-hash", []string{"--token", "source", "--source-ips", oneNet, "--min-backends", "3"}, report.Fail, "", oneBackendOnly},
		{"nginx-round-robin", nil, report.Fail, report.CauseNoToken, nil},
		{"caddy-cookie", nil, report.Pass, "", tokenShape("lb")},
		{"caddy-cookie-tls", []string{"--insecure"}, report.Pass, "", tokenShape("lb")},
		{"caddy-round-robin", nil, report.Fail, report.CauseNoToken, nil},
		{"caddy-ip-hash", []string{"--token", "source", "--source-ips", oneNet}, report.Pass, "", spreadOver(2)},
		{"apache-routeid", nil, report.Pass, "", tokenShape("ROUTEID")},
		{"apache-route-no-dot", nil, report.Fail, report.CauseTokenReassigned, checkNoDot},
		{"caddy-round-robin", []string{"--sessions", "10"}, report.Fail, report.CauseNoToken, hintSays(report.CauseNoToken, "lb_policy cookie")},
		{"apache-unset-cookie", nil, report.Fail, report.CauseNoToken, nil},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			l := startPreset(t, tc.preset)
			res := probeRun(t, append(append([]string{"--sessions", "30", "--requests", "6"}, tc.args...), nodeArgs(l.LB)...)...)
			rep := res.mustReport(t)
			if rep.Verdict != tc.want || res.code != verdictCode(tc.want) {
				t.Fatalf("verdict %s (exit %d), want %s; reasons %q, causes %v", rep.Verdict, res.code, tc.want, rep.Reasons, rep.Causes)
			}
			if tc.cause != "" && (rep.Causes[tc.cause] != rep.Summary.Broken || rep.Summary.Broken == 0) {
				t.Errorf("causes %v of %d broken: want every one %s", rep.Causes, rep.Summary.Broken, tc.cause)
			}
			if tc.cause == "" && rep.Summary.Broken != 0 {
				t.Errorf("%d broken sessions (%v), want none", rep.Summary.Broken, rep.Causes)
			}
			if tc.check != nil {
				tc.check(t, rep, res)
			}
			checkLBHints(t, rep, lbPreset(t, tc.preset).Kind())
		})
	}
}

// hintWords are words each kind's hints use and HAProxy's do not.
var hintWords = map[string]string{"nginx": "nginx", "caddy": "Caddy", "apache": "Apache"}

// checkLBHints asserts the report detected kind, says why, and gives its
// hints in kind's words.
func checkLBHints(t *testing.T, rep *report.Report, kind string) {
	t.Helper()
	if lb := rep.Run.LB; lb == nil || lb.Kind != kind || !lb.Detected || lb.Why == "" {
		t.Fatalf("lb %+v, want %s detected with a reason", lb, kind)
	}
	for c, h := range rep.Hints {
		if h != c.HintFor(kind) || strings.Contains(h, "HAProxy") {
			t.Errorf("hint for %s is not %s's: %q", c, kind, h)
		}
	}
}

// nginx 1.22 `hash $cookie_NAME consistent`: a user's first request has no
// cookie, and with an empty key nginx falls back to round robin; the
// server there creates the session, and from request 2 on the cookie's
// own hash decides. With three servers about 2 users in 3 change server
// once, between requests 1 and 2, and stay.
func checkHashCookie(t *testing.T, rep *report.Report, res probeResult) {
	hintSays(report.CauseTokenIgnored, "hash $cookie_NAME consistent")(t, rep, res)
	t.Logf("hash $cookie consistent: %d of 60 sessions switched at request 2", rep.Summary.Broken)
	if b := rep.Summary.Broken; b < 24 || b > 54 {
		t.Errorf("%d of 60 broken: want about 40", b)
	}
	first, later := map[string]bool{}, map[int]map[string]bool{}
	for _, ev := range res.events {
		if ev.Control {
			continue
		}
		if ev.Seq == 0 {
			first[ev.Backend] = true
			continue
		}
		if later[ev.Session] == nil {
			later[ev.Session] = map[string]bool{}
		}
		later[ev.Session][ev.Backend] = true
	}
	if len(first) != 3 {
		t.Errorf("first requests answered by %v: want round robin over the three", first)
	}
	for id, backends := range later {
		if len(backends) != 1 {
			t.Errorf("session %d: requests 2..6 on %v, want one server (the cookie's hash)", id, backends)
		}
	}
	for _, sm := range rep.Samples {
		if sm.Steps[0].Switch || !sm.Steps[1].Switch {
			t.Errorf("sample %d: %+v; want the switch at request 2", sm.Session, sm.Steps)
		}
	}
}

func hintSays(c report.Cause, words string) func(*testing.T, *report.Report, probeResult) {
	return func(t *testing.T, rep *report.Report, _ probeResult) {
		if !strings.Contains(rep.Hints[c], words) {
			t.Errorf("hint for %s: %q, want it to name %s", c, rep.Hints[c], words)
		}
	}
}

func spreadOver(n int) func(*testing.T, *report.Report, probeResult) {
	return func(t *testing.T, rep *report.Report, _ probeResult) {
		if len(rep.Backends) < n {
			t.Errorf("backends %v: want sessions on %d or more", rep.Backends, n)
		}
	}
}

// nginx's ip_hash keys on three octets: one /24 is one client.
func oneBackendOnly(t *testing.T, rep *report.Report, _ probeResult) {
	if len(rep.Backends) != 1 || !strings.Contains(strings.Join(rep.Reasons, " "), "backend") {
		t.Errorf("backends %v, reasons %q: want every session on one server and the spread check failing", rep.Backends, rep.Reasons)
	}
}

func tokenShape(name string) func(*testing.T, *report.Report, probeResult) {
	return func(t *testing.T, rep *report.Report, res probeResult) {
		if rep.Run.TokenName != name {
			t.Errorf("token %q, want %s learned", rep.Run.TokenName, name)
		}
		values := map[string]bool{}
		for _, ev := range res.events {
			if ev.TokenSet != "" {
				values[ev.TokenSet] = true
				if !tokenValue[name].MatchString(ev.TokenSet) {
					t.Errorf("%s=%q does not look like %s", name, ev.TokenSet, tokenValue[name])
				}
			}
		}
		if len(values) < 2 {
			t.Errorf("token values %v: want one per server used", values)
		}
	}
}

// Apache with ROUTEID=s2 (no dot): the balancer finds no route in the
// cookie, balances the request and, the route having changed, sets a new
// cookie: token-reassigned on every switch, not token-ignored.
func checkNoDot(t *testing.T, rep *report.Report, res probeResult) {
	hintSays(report.CauseTokenReassigned, "`ROUTEID=.s2`")(t, rep, res)
	reassigned := 0
	for _, ev := range res.events {
		if ev.TokenSent != "" && ev.TokenSet != "" {
			reassigned++
		}
		if strings.HasPrefix(ev.TokenSet, ".") {
			t.Fatalf("event %+v: a route cookie with its dot", ev)
		}
	}
	if reassigned < 100 {
		t.Errorf("%d responses set a new ROUTEID over the one sent, want (nearly) every later one of 150", reassigned)
	}
}

// A route cookie marked Secure over plain HTTP: the jar refuses it, and
// the report says why.
func TestApacheSecureCookieRefused(t *testing.T) {
	t.Parallel()
	l := startOtherLB(t, lab.ApacheConfig{StickySession: "ROUTEID", SetCookie: "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/; Secure"}, lab.BackendOptions{})
	res := probeRun(t, append([]string{"--sessions", "20", "--requests", "4"}, nodeArgs(l.LB)...)...)
	rep := res.mustReport(t)
	if rep.Verdict != report.Fail || rep.Causes[report.CauseTokenRefused] != rep.Summary.Broken || rep.Refusals["secure-over-http"] != rep.Summary.Broken {
		t.Fatalf("verdict %s, causes %v, refusals %v: want every session token-refused (secure-over-http)", rep.Verdict, rep.Causes, rep.Refusals)
	}
}

// None of the three keeps persistence state in memory: nginx hashes,
// Caddy's cookie is an HMAC of the upstream's address and Apache's names
// a route in the config. So a full restart and each one's own reload
// (`nginx -s reload`, `caddy reload`, `apache2 -k graceful`) keep every
// session where it was.
func TestOtherLBsRestartAndReloadKeepSessions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		preset string
		args   []string
	}{
		{"nginx-hash-remote-addr", []string{"--token", "source", "--source-ips", oneNet}},
		{"caddy-cookie", nil},
		{"apache-routeid", nil},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			l := startPreset(t, tc.preset)
			n := l.LB.(lab.Node)
			for action, act := range map[string]func(context.Context) error{"restart": n.Restart, "reload": n.Reload} {
				file := smokeScenario(t, action, hook(t, act), 20)
				res := scenarioRunCLI(t, append(append(tc.args, nodeArgs(n)[:2]...), file, nodeArgs(n)[2])...)
				checkSticky(t, res, action, exitPass)
			}
			if logs := n.Logs(); !strings.Contains(logs, "reloading "+n.Kind()) || strings.Count(logs, "starting "+n.Kind()) != 2 {
				t.Errorf("the %s did not both restart and reload:\n%s", n.Kind(), logs)
			}
		})
	}
}

// Two nodes in front of the same backends, the probe rotating over them.
func TestOtherLBsTwoNodes(t *testing.T) {
	t.Parallel()
	caddy := func(secret string) lab.CaddyConfig { return lab.CaddyConfig{LBPolicy: "cookie lb " + secret} }
	for _, tc := range []struct {
		name       string
		a, b       lab.LBConfig
		args       []string
		wantBroken bool
	}{
		// Each Caddy node takes the other's cookie for an unknown value,
		// picks an upstream anew and sets its own cookie.
		{"caddy different secrets", caddy(lab.CaddySecret), caddy(lab.CaddyOtherSecret), nil, true},
		{"caddy one secret", caddy(lab.CaddySecret), caddy(lab.CaddySecret), nil, false},
		// Consistent hashing over the same server lines agrees across nodes.
		{"nginx hash remote_addr", lbPreset(t, "nginx-hash-remote-addr").Config, lbPreset(t, "nginx-hash-remote-addr").Config,
			[]string{"--token", "source", "--source-ips", oneNet}, false},
		{"apache same routes", lbPreset(t, "apache-routeid").Config, lbPreset(t, "apache-routeid").Config, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := startOtherLB(t, tc.a, lab.BackendOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			b, err := l.AddLB(ctx, tc.b)
			if err != nil {
				t.Fatal(err)
			}
			res := probeRun(t, append(append([]string{"--sessions", "20", "--requests", "6", "--frontends", "rotate"}, tc.args...), nodeArgs(l.LB, b)...)...)
			rep := res.mustReport(t)
			if len(rep.Frontends) != 2 {
				t.Fatalf("frontends %v, want both nodes", rep.Frontends)
			}
			if !tc.wantBroken {
				if rep.Verdict != report.Pass || rep.Summary.Sticky != 20 {
					t.Fatalf("verdict %s, %d sticky, causes %v: want the nodes to agree", rep.Verdict, rep.Summary.Sticky, rep.Causes)
				}
				return
			}
			if rep.Verdict != report.Fail || rep.Causes[report.CauseFrontendChanged] != rep.Summary.Broken || rep.Summary.Broken < 15 {
				t.Fatalf("verdict %s, causes %v of %d: want (nearly) every session frontend-changed", rep.Verdict, rep.Causes, rep.Summary.Broken)
			}
		})
	}
}

// otherLossRun probes a lab while server1 dies 2 s into the run and comes
// back 2.5 s later, with source persistence from 40 addresses.
func otherLossRun(t *testing.T, cfg lab.LBConfig, args ...string) probeResult {
	t.Helper()
	return lossRunOn(t, cfg, append([]string{"--token", "source", "--source-ips", oneNet}, args...)...)
}

// lossRunOn is otherLossRun with the probe's flags as given.
func lossRunOn(t *testing.T, cfg lab.LBConfig, args ...string) probeResult {
	t.Helper()
	l := startOtherLB(t, cfg, lab.BackendOptions{})
	wait := startOutages(t, l, outage{"server1", 2 * time.Second, 2500 * time.Millisecond})
	res := probeRun(t, append(append([]string{"--sessions", "30", "--requests", "40", "--rate", "150", "--concurrency", "10"},
		args...), nodeArgs(l.LB)...)...)
	wait()
	return res
}

// nginx's proxy_next_upstream (`error timeout`, also the default) retries
// a request whose server refuses the connection on the next one, so a
// dead server's users move without an error; nginx then leaves the server
// out for fail_timeout (30 s in the preset), so they do not come back
// within the run. `proxy_next_upstream off` answers 502 instead.
func TestNginxNextUpstreamMovesUsers(t *testing.T) {
	t.Parallel()
	t.Run("on", func(t *testing.T) {
		t.Parallel()
		res := otherLossRun(t, lbPreset(t, "nginx-next-upstream").Config)
		rep := res.mustReport(t)
		if res.code != exitPass || rep.Summary.Moved < 3 || rep.Summary.Broken != 0 || rep.Summary.Errors != 0 {
			t.Fatalf("exit %d, moved %d, broken %d, errors %v (reasons %q): want server1's users moved, no error",
				res.code, rep.Summary.Moved, rep.Summary.Broken, rep.Errors, rep.Reasons)
		}
		t.Logf("%d sessions moved off server1, %d errors", rep.Summary.Moved, rep.Summary.Errors)
		for _, m := range rep.BackendLoss.Moves {
			if m.From != "server1" || m.Returned != nil {
				t.Errorf("move %+v: want off server1, not back within fail_timeout", m)
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		off := lab.NginxConfig{Upstream: []string{"hash $remote_addr consistent"}, Location: []string{"proxy_next_upstream off"}}
		rep := otherLossRun(t, off).mustReport(t)
		if rep.Verdict != report.Fail || rep.Errors["http-5xx"] == 0 {
			t.Fatalf("verdict %s, errors %v, causes %v: want the 502s to fail the run", rep.Verdict, rep.Errors, rep.Causes)
		}
		t.Logf("%v errors, moved %d, broken %d %v", rep.Errors, rep.Summary.Moved, rep.Summary.Broken, rep.Causes)
	})
}

// --lb names the load balancer instead of detecting it; a kind it does not
// know is a usage error before anything is sent.
func TestLBFlag(t *testing.T) {
	t.Parallel()
	l := startPreset(t, "apache-unset-cookie")
	res := probeRun(t, append([]string{"--sessions", "10", "--requests", "3", "--lb", "generic"}, nodeArgs(l.LB)...)...)
	rep := res.mustReport(t)
	if lb := rep.Run.LB; lb == nil || lb.Kind != "generic" || lb.Detected || rep.Hints[report.CauseNoToken] != report.CauseNoToken.HintFor("generic") {
		t.Fatalf("lb %+v, hints %v: want the generic words, as asked", lb, rep.Hints)
	}
	if !strings.Contains(res.stdout, "hints for any load balancer (--lb generic)") {
		t.Errorf("the table does not say whose hints:\n%s", res.stdout)
	}
	bad := probeRun(t, append([]string{"--lb", "traefik"}, nodeArgs(l.LB)...)...)
	if bad.code != exitUsage || !strings.Contains(bad.stderr, "--lb") || bad.report != nil {
		t.Errorf("--lb traefik: exit %d, stderr %q; want 2 naming --lb, no run", bad.code, bad.stderr)
	}
}

// `lab --serve` runs every preset of every kind: it proxies, and its
// control endpoint reloads it with the kind's own reload.
func TestLabServeEveryPreset(t *testing.T) {
	t.Parallel()
	for _, p := range lab.LBPresets() {
		t.Run(p.Name, func(t *testing.T) {
			_, url, control := serveLabBinary(t, p.Name)
			viaLoopback(t, url)
			if err := post(control + "/reload")(context.Background()); err != nil {
				t.Fatalf("reload: %v", err)
			}
			viaLoopback(t, url)
		})
	}
}

// viaLoopback GETs a lab URL (under labHost) on 127.0.0.1 and wants a
// backend to answer.
func viaLoopback(t *testing.T, url string) {
	t.Helper()
	d := &net.Dialer{Timeout: 2 * time.Second}
	tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 3 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Backend") == "" {
		t.Fatalf("%s: %s with no X-Backend", url, resp.Status)
	}
}

// A cookie-pinned backend killed for 2.5 s. Apache 2.4 puts the member in
// error state and its users move at once, with a new route cookie, and stay
// (the member is retried after `retry`, 60 s). Caddy 2.6 with no retry
// settings keeps proxying the cookie's users to the dead upstream: 502s,
// nobody moves. With `lb_try_duration` (and `fail_duration` to remember the
// failure) the request is retried on another upstream, which sets the
// cookie anew: the users move and stay.
func TestBackendLossApacheAndCaddy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cfg   lab.LBConfig
		moves bool
	}{
		{"apache", lbPreset(t, "apache-routeid").Config, true},
		{"caddy", lbPreset(t, "caddy-cookie").Config, false},
		{"caddy lb_try_duration", lab.CaddyConfig{LBPolicy: "cookie lb " + lab.CaddySecret, Proxy: []string{"lb_try_duration 2s", "fail_duration 10s"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := lossRunOn(t, tc.cfg).mustReport(t)
			t.Logf("verdict %s, moved %d, broken %d, errors %v", rep.Verdict, rep.Summary.Moved, rep.Summary.Broken, rep.Errors)
			if rep.Summary.Broken != 0 {
				t.Errorf("%d broken (%v), want none", rep.Summary.Broken, rep.Causes)
			}
			if !tc.moves {
				if rep.Verdict != report.Fail || rep.Errors["http-5xx"] == 0 || rep.Summary.Moved != 0 {
					t.Errorf("verdict %s, errors %v, moved %d: want the dead upstream's 502s to fail the run, nobody moved", rep.Verdict, rep.Errors, rep.Summary.Moved)
				}
				return
			}
			// At most the one request in flight when the backend died may
			// fail (a real kill drops it too); without it the run passes.
			if rep.Summary.Errors > 1 || rep.Summary.Errors == 0 && rep.Verdict != report.Pass || rep.Summary.Moved < 3 {
				t.Fatalf("verdict %s, errors %v, moved %d (reasons %q): want server1's users moved without an error", rep.Verdict, rep.Errors, rep.Summary.Moved, rep.Reasons)
			}
			for _, m := range rep.BackendLoss.Moves {
				if m.From != "server1" || m.Returned != nil {
					t.Errorf("move %+v: want off server1 and not back (the cookie names the new server)", m)
				}
			}
		})
	}
}

// The events trailer carries the load balancer the run detected, so a
// report rebuilt from the file gives the same hints in the same words.
func TestReportKeepsTheLBsWords(t *testing.T) {
	t.Parallel()
	l := startPreset(t, "apache-unset-cookie")
	res := probeRun(t, append([]string{"--sessions", "10", "--requests", "3"}, nodeArgs(l.LB)...)...)
	live := res.mustReport(t)
	checkLBHints(t, live, "apache")
	code, out, stderr := runCLI(t, "report", "--format", "json", res.eventsPath)
	var replayed report.Report
	if err := json.Unmarshal([]byte(out), &replayed); err != nil || code != exitFail {
		t.Fatalf("report: exit %d, %v\n%s", code, err, stderr)
	}
	if replayed.Run.LB == nil || *replayed.Run.LB != *live.Run.LB || replayed.Hints[report.CauseNoToken] != live.Hints[report.CauseNoToken] {
		t.Errorf("replayed lb %+v hints %v; live lb %+v hints %v", replayed.Run.LB, replayed.Hints, live.Run.LB, live.Hints)
	}
}
