package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
)

// These tests run --haproxy-socket against the Runtime API of a real
// haproxy (the lab's, with a stats socket) and against sockets that are
// missing or answer garbage.

// startSocketLab starts three backends and haproxy with cfg and a stats
// socket in front of them.
func startSocketLab(t *testing.T, cfg lab.HAProxyConfig, opts lab.BackendOptions) (*lab.Lab, *lab.HAProxy) {
	t.Helper()
	if _, err := lab.FindHAProxy(); err != nil {
		t.Fatal(err)
	}
	cfg.StatsSocket = true
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l, err := lab.Start(ctx, lab.Options{HAProxy: cfg, Backend: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, l.LB.(*lab.HAProxy)
}

func TestHAProxySocketUnusableIsExit2BeforeTheRun(t *testing.T) {
	l, h := startSocketLab(t, preset(t, "textbook"), lab.BackendOptions{})
	dir, err := os.MkdirTemp("/tmp", "sp-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	garbage := filepath.Join(dir, "g.sock")
	ln, err := net.Listen("unix", garbage)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	before := map[string]int64{} // the lab's readiness check sent one
	for _, b := range l.Backends {
		before[b.Name()] = b.Requests()
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Read(make([]byte, 64))
			c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n"))
			c.Close()
		}
	}()
	for _, tc := range []struct{ addr, want string }{
		{filepath.Join(dir, "none.sock"), "unreachable"},
		{garbage, "not a HAProxy runtime API reply"},
		{"tcp:127.0.0.1", "want tcp:HOST:PORT"},
	} {
		start := time.Now()
		res := probeRun(t, append([]string{"--sessions", "3", "--requests", "3", "--haproxy-socket", tc.addr}, hostArgs(h)...)...)
		if res.code != exitUsage || !strings.Contains(res.stderr, "--haproxy-socket") || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 naming the flag and %q", tc.addr, res.code, res.stderr, tc.want)
		}
		if res.report != nil || len(res.events) != 0 {
			t.Errorf("%s: a report or events were written before the socket was checked", tc.addr)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %s", tc.addr, d)
		}
	}
	for _, b := range l.Backends {
		if n := b.Requests() - before[b.Name()]; n != 0 {
			t.Errorf("%s got %d requests from runs refused before their start", b.Name(), n)
		}
	}
}

// TestHAProxySocketSaysWhatHappened kills a backend in the middle of a
// run against `option redispatch`, and brings it back before the end, and
// checks the report says what HAProxy said: server2 went down (and when)
// and up, requests were redispatched, the cookie values name the servers;
// and that the backend-loss verdict took HAProxy's word as evidence, also
// for a loss that ended while the run went on.
func TestHAProxySocketSaysWhatHappened(t *testing.T) {
	rep, at, stderr := killAndReturnRun(t)
	st := rep.LBState
	if st == nil {
		t.Fatalf("no lb_state in the report: %s", stderr)
	}
	down, up, ok := st.DownAt("server2")
	if !ok || up.IsZero() {
		t.Fatalf("HAProxy's outage of server2 not in the report: %+v", st)
	}
	if d := down.Sub(at); d < time.Second || d > 3500*time.Millisecond {
		t.Errorf("DOWN seen %s after the kill; measured 1.5 s plus a 1 s poll", d)
	}
	if _, _, ok := st.DownAt("server1"); ok || len(st.Restarts) != 0 || st.FailedPolls != 0 || st.Polls < 3 {
		t.Errorf("unexpected LB state: %+v", st)
	}
	if !strings.HasPrefix(st.Version, "2.") || st.Cookies["be_app"]["s2"] != "server2" {
		t.Errorf("version %q, cookies %v", st.Version, st.Cookies)
	}
	var redispatched int64
	for _, r := range st.Redispatches {
		if r.Server == "server2" {
			redispatched = r.Wredis
		}
	}
	if redispatched == 0 {
		t.Errorf("no redispatch from server2 counted: %+v", st.Redispatches)
	}
	if bl := rep.BackendLoss; bl == nil || len(bl.Lost) != 1 || bl.Lost[0].Backend != "server2" || bl.Lost[0].To == nil ||
		!slices.Contains(bl.Lost[0].Evidence, report.EvidenceLBState) {
		t.Errorf("backend loss %+v: want server2 lost with HAProxy's word (lb-state) among the evidence", bl)
	}
	var table bytes.Buffer
	report.Table(&table, rep)
	if !strings.Contains(table.String(), "What HAProxy said") || !strings.Contains(table.String(), "be_app/server2 up → down") ||
		!strings.Contains(table.String(), "be_app/server2 down → up") {
		t.Errorf("table lacks the section:\n%s", table.String())
	}
}

// killAndReturnRun probes the redispatch preset with --haproxy-socket
// while server2 is killed 1.5 s in and brought back 2.5 s later; it
// returns the report and when the kill was.
func killAndReturnRun(t *testing.T, args ...string) (*report.Report, time.Time, string) {
	t.Helper()
	l, h := startSocketLab(t, preset(t, "redispatch"), lab.BackendOptions{})
	res, at := killAndReturn(t, l, h, args...)
	return res.mustReport(t), at, res.stderr
}

// killAndReturn is killAndReturnRun against lab l of the redispatch
// preset, whose HAProxy h has a stats socket; it returns the whole run.
func killAndReturn(t *testing.T, l *lab.Lab, h *lab.HAProxy, args ...string) (probeResult, time.Time) {
	t.Helper()
	time.Sleep(1200 * time.Millisecond) // settled health checks: DOWN takes fall (3) checks, as in production
	killed := make(chan time.Time, 1)
	timer := time.AfterFunc(1500*time.Millisecond, func() {
		killed <- time.Now()
		l.Backend("server2").Stop()
	})
	defer timer.Stop()
	back := time.AfterFunc(4000*time.Millisecond, func() { l.Backend("server2").Start() })
	defer back.Stop()
	args = append(args, "--sessions", "12", "--requests", "60", "--think", "100ms", "--control", "3",
		"--on-backend-loss", "failover-stay", "--haproxy-socket", h.StatsSocket())
	res := probeRun(t, append(args, hostArgs(h)...)...)
	return res, <-killed
}

// TestHAProxySocketLossByCookieIdentity: with the backend named by its
// cookie value (--id cookie:SERVERID: s1, s2, s3), HAProxy's DOWN of
// server2 is still found for backend s2, through show stat's cookie map.
func TestHAProxySocketLossByCookieIdentity(t *testing.T) {
	rep, _, stderr := killAndReturnRun(t, "--id", "cookie:SERVERID")
	if _, ok := rep.Backends["s2"]; !ok {
		t.Fatalf("backends %v: want them named by cookie value\n%s", rep.Backends, stderr)
	}
	if bl := rep.BackendLoss; bl == nil || len(bl.Lost) != 1 || bl.Lost[0].Backend != "s2" ||
		!slices.Contains(bl.Lost[0].Evidence, report.EvidenceLBState) {
		t.Errorf("backend loss %+v: want s2 lost with HAProxy's word (lb-state) among the evidence", rep.BackendLoss)
	}
}

// TestHAProxySocketTableEntriesOfBrokenSessions: a table that stores the
// app's session cookie but no `stick match` to use it. Sessions break
// (token-ignored), and the report shows, per broken session, the server
// the table stored for its token: the table knew, nothing asked it.
func TestHAProxySocketTableEntriesOfBrokenSessions(t *testing.T) {
	cfg := lab.HAProxyConfig{BackendLines: []string{
		"stick-table type string len 64 size 1k expire 10m",
		"stick store-response res.cook(" + lab.AppCookie + ")",
	}}
	_, h := startSocketLab(t, cfg, lab.BackendOptions{AppCookie: lab.AppCookie})
	res := probeRun(t, append([]string{"--sessions", "8", "--requests", "4", "--token", "cookie:" + lab.AppCookie,
		"--haproxy-socket", h.StatsSocket()}, hostArgs(h)...)...)
	rep := res.mustReport(t)
	if rep.Summary.Broken == 0 || rep.LBState == nil {
		t.Fatalf("broken %d, lb_state %v; want broken sessions and the LB's word (exit %d)", rep.Summary.Broken, rep.LBState, res.code)
	}
	entries := rep.LBState.TableEntries
	if len(entries) == 0 {
		t.Fatalf("no table entries for %d sampled broken sessions: %+v", len(rep.Samples), rep.LBState)
	}
	first := map[int]string{} // session -> the backend that answered its first request, which set the cookie
	for _, s := range rep.Samples {
		if len(s.Steps) > 0 {
			first[s.Session] = s.Steps[0].Backend
		}
	}
	for _, e := range entries {
		if e.Table != "be_app" || e.Server == "" || e.ExpMS <= 0 {
			t.Errorf("entry %+v", e)
		}
		if want, ok := first[e.Session]; ok && e.Server != want {
			t.Errorf("session %d: table stored %s for its token, its first response came from %s", e.Session, e.Server, want)
		}
	}
}

// TestHAProxySocketScenarioRestart: `scenario run` with an exec phase that
// restarts HAProxy; the report names the new process, and the run is
// judged as without the flag (cookie insert survives a restart).
func TestHAProxySocketScenarioRestart(t *testing.T) {
	_, h := startSocketLab(t, preset(t, "textbook"), lab.BackendOptions{})
	path := smokeScenario(t, "restart", hook(t, h.Restart), 6)
	res := scenarioRunCLI(t, append(append([]string{"--haproxy-socket", h.StatsSocket()}, resolveArgs(h)...), path, hostURL(h))...)
	rep := res.mustReport(t)
	if res.code != exitPass {
		t.Fatalf("exit %d: %q\n%s", res.code, rep.Reasons, res.stderr)
	}
	st := rep.LBState
	if st == nil || len(st.Restarts) != 1 || st.Restarts[0].OldPid == st.Restarts[0].NewPid {
		t.Fatalf("lb_state %+v: want one restart with a new pid", st)
	}
}

func TestHAProxySocketMonitor(t *testing.T) {
	l, h := startSocketLab(t, preset(t, "textbook"), lab.BackendOptions{})
	bad := startMonitor(t, append(append(fastCycles, "--listen", "", "--haproxy-socket", "/nonexistent/h.sock"), hostArgs(h)...)...)
	if code := bad.wait(t, 10*time.Second); code != exitUsage || !strings.Contains(bad.stderr.String(), "--haproxy-socket") {
		t.Fatalf("monitor with a missing socket: exit %d, want 2\n%s", code, bad.stderr)
	}
	mon := startMonitor(t, append(append(fastCycles, "--listen", "", "--log-format", "json", "--haproxy-socket", h.StatsSocket()), hostArgs(h)...)...)
	time.Sleep(1200 * time.Millisecond) // settled checks
	if err := l.Backend("server3").Stop(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "a logged state change of server3", func() (bool, string) {
		log := mon.stderr.String()
		return strings.Contains(log, `"msg":"haproxy server state changed","backend":"be_app","server":"server3","from":"up","to":"down"`), log
	})
	mon.stop()
	if code := mon.wait(t, 15*time.Second); code != exitPass {
		t.Fatalf("monitor exit %d\n%s", code, mon.stderr)
	}
	if !strings.Contains(mon.stderr.String(), "haproxy runtime api watch ended") {
		t.Errorf("no end-of-watch line:\n%s", mon.stderr)
	}
}

func TestLabServeOffersTheSocket(t *testing.T) {
	cfg, ok := withStatsSocket(preset(t, "textbook")).(lab.HAProxyConfig)
	if !ok || !cfg.StatsSocket {
		t.Fatalf("withStatsSocket(textbook) = %+v", cfg)
	}
	if got, ok := withStatsSocket(lab.NginxConfig{}).(lab.NginxConfig); !ok || !reflect.DeepEqual(got, lab.NginxConfig{}) {
		t.Errorf("withStatsSocket changed an nginx config: %+v", got)
	}
	_, h := startSocketLab(t, cfg, lab.BackendOptions{})
	var b bytes.Buffer
	printStatsSocket(&b, h, "http://lab/")
	if want := "stickyprobe run --haproxy-socket " + h.StatsSocket() + " http://lab/\n"; !strings.Contains(b.String(), want) {
		t.Errorf("printed %q, want %q", b.String(), want)
	}
	if got := socketArg("ipv4@127.0.0.1:9999"); got != "tcp:127.0.0.1:9999" {
		t.Errorf("socketArg(ipv4@127.0.0.1:9999) = %q", got)
	}
}

// TestHAProxySocketLevelUserWarns: the same table behind a `level user`
// socket, which HAProxy does not let see table contents; the report says
// so instead of listing nothing.
func TestHAProxySocketLevelUserWarns(t *testing.T) {
	cfg := lab.HAProxyConfig{StatsLevel: "user", BackendLines: []string{
		"stick-table type string len 64 size 1k expire 10m",
		"stick store-response res.cook(" + lab.AppCookie + ")",
	}}
	_, h := startSocketLab(t, cfg, lab.BackendOptions{AppCookie: lab.AppCookie})
	res := probeRun(t, append([]string{"--sessions", "6", "--requests", "4", "--token", "cookie:" + lab.AppCookie,
		"--haproxy-socket", h.StatsSocket()}, hostArgs(h)...)...)
	rep := res.mustReport(t)
	st := rep.LBState
	if rep.Summary.Broken == 0 || st == nil || len(st.TableEntries) != 0 {
		t.Fatalf("broken %d, lb_state %+v", rep.Summary.Broken, st)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "stick table be_app: contents hidden (the socket needs `level operator`)") {
		t.Errorf("warnings %q", st.Warnings)
	}
}
