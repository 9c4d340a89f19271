package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
)

// These tests run `stickyprobe monitor` against a real haproxy on
// 127.0.0.1 and read its metrics the way Prometheus does: over HTTP.

// fastCycles makes cycles of about 60 requests every 300 ms.
var fastCycles = []string{"--every", "300ms", "--jitter", "0", "--rate", "0", "--sessions", "12", "--requests", "4"}

func TestMonitorSeesStickinessDropWhenTheLBBreaks(t *testing.T) {
	var n atomic.Int64
	h := startLBWith(t, preset(t, "textbook"), lab.BackendOptions{AppCookie: "JSESSIONID",
		AppCookieValue: func() string { return fmt.Sprintf("app-secret-%d", n.Add(1)) }})
	addr := freeAddr(t)
	mon := startMonitor(t, append(append(fastCycles, "--listen", addr, "--scenario-label", "shop"), hostArgs(h)...)...)

	var before families
	eventually(t, 20*time.Second, "two passing cycles", func() (bool, string) {
		var err error
		if before, err = tryScrape(addr); err != nil {
			return false, err.Error() // not listening yet
		}
		v, _ := before.sum("stickyprobe_cycles_total", "verdict=pass")
		return v >= 2, "passing cycles " + strconv.FormatFloat(v, 'f', 0, 64) + "; log:\n" + mon.stderr.String()
	})
	if got := before.get(t, "stickyprobe_stickiness_ratio", "scenario=shop"); got != 1 {
		t.Errorf("stickiness %v on the textbook config, want 1", got)
	}
	if got := before.get(t, "stickyprobe_verdict", "verdict=pass"); got != 1 {
		t.Errorf("verdict{pass} = %v, want 1", got)
	}
	if got := before.get(t, "stickyprobe_broken_sessions_total"); got != 0 {
		t.Errorf("broken sessions %v on the textbook config, want 0", got)
	}
	if got := before.get(t, "stickyprobe_backends_seen"); got != 3 {
		t.Errorf("backends seen %v, want 3", got)
	}
	if _, ok := before.sum("go_gc_heap_live_bytes"); !ok {
		t.Error("no go_gc_heap_live_bytes: the monitor's own memory is not observable")
	}
	requests := before.get(t, "stickyprobe_requests_total")
	eventually(t, 10*time.Second, "requests_total rising", func() (bool, string) {
		return scrape(t, addr).get(t, "stickyprobe_requests_total") > requests, "still " + strconv.FormatFloat(requests, 'f', 0, 64)
	})
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "ok") {
		t.Errorf("/healthz: %s %q", resp.Status, body)
	}

	// Restart HAProxy with the cookie directive gone, between cycles.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.Reconfigure(ctx, preset(t, "no-cookie")); err != nil {
		t.Fatal(err)
	}
	var after families
	eventually(t, 20*time.Second, "a failing cycle with no-token sessions", func() (bool, string) {
		after = scrape(t, addr)
		fail, _ := after.sum("stickyprobe_verdict", "verdict=fail")
		noToken, _ := after.sum("stickyprobe_broken_sessions_total", "cause=no-token")
		sticky, _ := after.sum("stickyprobe_stickiness_ratio")
		return fail == 1 && noToken > 0 && sticky < 1, fmt.Sprintf("verdict{fail}=%v no-token=%v stickiness=%v; log:\n%s",
			fail, noToken, sticky, mon.stderr)
	})
	if got := after.get(t, "stickyprobe_stickiness_ratio"); got >= 0.5 {
		t.Errorf("stickiness %v without a cookie directive, want well below 1", got)
	}
	if got := after.get(t, "stickyprobe_cycles_total", "verdict=fail"); got < 1 {
		t.Errorf("cycles_total{fail} = %v, want at least 1", got)
	}
	if a, b := after.get(t, "stickyprobe_sessions_total", "result=broken"), before.get(t, "stickyprobe_sessions_total", "result=broken"); a <= b {
		t.Errorf("sessions_total{broken} %v -> %v, want it to rise", b, a)
	}

	mon.stop()
	if code := mon.wait(t, 10*time.Second); code != exitPass {
		t.Errorf("monitor exit %d after stop, want 0", code)
	}
	log := mon.stderr.String()
	for _, want := range []string{"msg=monitoring", "msg=cycle", "verdict=pass", "verdict=fail", "causes.no-token=",
		`msg="broken session"`, "cause=no-token", "timeline=", "msg=stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	// The backends set a JSESSIONID on every new session: an application
	// session, the kind of secret that must never be logged.
	if n.Load() == 0 {
		t.Fatal("the backends never set their application cookie: the check below proves nothing")
	}
	if strings.Contains(log, "app-secret-") {
		t.Errorf("the log holds an application cookie value:\n%s", log)
	}
}

// TestMonitorSessionLifetimeCatchesMaxidle is the case fresh sessions
// cannot see: HAProxy forgets a cookie idle for longer than maxidle, and a
// real user who comes back after a pause lands elsewhere.
func TestMonitorSessionLifetimeCatchesMaxidle(t *testing.T) {
	cfg := preset(t, "textbook")
	cfg.Cookie += " maxidle 1s"
	h := startLB(t, cfg)
	dir := t.TempDir()
	kept, fresh := filepath.Join(dir, "kept.prom"), filepath.Join(dir, "fresh.prom")
	// HAProxy stores the cookie's date with a 4-second resolution, so a
	// cookie is only sure to be older than maxidle 1s after 5 s. Cycles 6 s
	// apart idle every session past it between cycles, never within one.
	common := []string{"--every", "6s", "--jitter", "0", "--rate", "0", "--sessions", "12", "--requests", "3", "--cycles", "2", "--listen", ""}
	withLifetime := startMonitor(t, append(append(common, "--session-lifetime", "1m", "--prom-textfile", kept), hostArgs(h)...)...)
	withoutLifetime := startMonitor(t, append(append(common, "--prom-textfile", fresh), hostArgs(h)...)...)
	for _, m := range []*runningMonitor{withLifetime, withoutLifetime} {
		if code := m.wait(t, 30*time.Second); code != exitPass {
			t.Fatalf("monitor exit %d, want 0\n%s", code, m.stderr)
		}
	}

	k := readTextfile(t, kept)
	if got := k.get(t, "stickyprobe_broken_sessions_total", "cause=token-reassigned"); got == 0 {
		t.Errorf("long-lived sessions: no token-reassigned session after idling past maxidle\n%s", withLifetime.stderr)
	}
	if got := k.get(t, "stickyprobe_cycles_total", "verdict=pass"); got < 1 {
		t.Errorf("long-lived sessions: cycles_total{pass} = %v, want the first cycle to pass (nothing idled yet)", got)
	}
	if !strings.Contains(withLifetime.stderr.String(), "cause=token-reassigned") {
		t.Errorf("the log does not name token-reassigned:\n%s", withLifetime.stderr)
	}
	f := readTextfile(t, fresh)
	if got := f.get(t, "stickyprobe_broken_sessions_total"); got != 0 {
		t.Errorf("fresh sessions: %v broken, want 0 (they never idle)", got)
	}
	if got := f.get(t, "stickyprobe_cycles_total", "verdict=pass"); got != 2 {
		t.Errorf("fresh sessions: %v passing cycles, want 2", got)
	}
}

func TestMonitorUsageErrors(t *testing.T) {
	taken := freeAddr(t)
	ln, err := netListen(taken)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	target := "http://127.0.0.1:9/" // never contacted: every case fails before probing
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"every too short", []string{"--every", "1ms"}, exitUsage, "--every"},
		{"jitter too large", []string{"--jitter", "0.9"}, exitUsage, "--jitter"},
		{"log format", []string{"--log-format", "xml"}, exitUsage, "--log-format"},
		{"listen not an address", []string{"--listen", "nonsense"}, exitUsage, "--listen"},
		{"textfile dir missing", []string{"--prom-textfile", "/nonexistent/dir/s.prom"}, exitUsage, "--prom-textfile"},
		{"negative lifetime", []string{"--session-lifetime", "-1s"}, exitUsage, "--session-lifetime"},
		{"no target", nil, exitUsage, "no target"},
		{"port taken", []string{"--listen", taken}, exitCannotRun, "--listen"},
		{"scenario that restarts", []string{"--scenario", "restart-smoke"}, exitUsage, "phase restart is an exec phase"},
		{"scenario that pauses", []string{"--scenario", "manual-restart"}, exitUsage, "pause phase"},
		{"unknown scenario", []string{"--scenario", "nope"}, exitUsage, "nope"},
		{"source pool not on this machine", []string{"--source-ips", "192.0.2.7"}, exitUsage, "cannot bind 192.0.2.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"stickyprobe", "monitor", "--cycles", "1"}, tt.args...)
			if tt.name != "no target" {
				args = append(args, target)
			}
			var stderr syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if code := run(ctx, args, io.Discard, &stderr); code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("message %q does not name %s", stderr.String(), tt.want)
			}
		})
	}
}

// monitor --scenario runs a built-in's requests phases every cycle, its
// name the scenario label, with the flags given over the file's values.
func TestMonitorRunsAScenario(t *testing.T) {
	h := startLB(t, preset(t, "textbook"))
	textfile := filepath.Join(t.TempDir(), "browse.prom")
	m := startMonitor(t, append([]string{"--scenario", "browse", "--every", "5s", "--cycles", "1", "--listen", "",
		"--rate", "100", "--sessions", "6", "--prom-textfile", textfile}, hostArgs(h)...)...)
	if code := m.wait(t, 30*time.Second); code != exitPass {
		t.Fatalf("monitor exit %d, want 0\n%s", code, m.stderr)
	}
	tf := readTextfile(t, textfile)
	if got := tf.get(t, "stickyprobe_cycles_total", "verdict=pass", "scenario=browse"); got != 1 {
		t.Errorf("cycles_total{pass,scenario=browse} = %v, want 1\n%s", got, m.stderr)
	}
	if got := tf.get(t, "stickyprobe_sessions_total", "result=sticky"); got != 6 {
		t.Errorf("sticky sessions %v, want the 6 of --sessions over the file's 50", got)
	}
}
