package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
)

// TestReportRebuildsWhatHAProxySaid: a failover drill against the real
// HAProxy with --haproxy-socket, --haproxy-config and --events; `report
// EVENTS` then shows what HAProxy said and the config lines, the same
// JSON as the live run's, and re-judged strict it ties the now-broken
// sessions (token-reassigned) to the config's `option redispatch` line,
// still with HAProxy's word on the loss.
func TestReportRebuildsWhatHAProxySaid(t *testing.T) {
	l, h := startSocketLab(t, preset(t, "redispatch"), lab.BackendOptions{})
	cfgPath := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(h.Config()), 0o600); err != nil {
		t.Fatal(err)
	}
	res, _ := killAndReturn(t, l, h, "--haproxy-config", cfgPath)
	live := res.mustReport(t)
	if live.LBState == nil || live.HAProxyConfig == nil || !lostByLBWord(live, "server2") {
		t.Fatalf("live: lb_state %v, haproxy_config %v, loss %+v\n%s", live.LBState != nil, live.HAProxyConfig, live.BackendLoss, res.stderr)
	}

	code, out, stderr := runCLI(t, "report", res.eventsPath)
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"What HAProxy said (" + h.StatsSocket(), "be_app/server2 up → down", "be_app/server2 down → up",
		"config " + cfgPath + ": the URL is served by backend be_app", "the config implies --on-backend-loss failover-stay (" + cfgPath + ":"} {
		if !strings.Contains(flat, want) {
			t.Errorf("report (exit %d) lacks %q:\n%s\n%s", code, want, out, stderr)
		}
	}
	liveJSON, err := os.ReadFile(res.jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCLI(t, "report", "--format", "json", res.eventsPath)
	if code != res.code || out != string(liveJSON) {
		t.Errorf("report --format json: exit %d (live %d), %d bytes differ from the live JSON's %d\n%s", code, res.code, len(out), len(liveJSON), stderr)
	}

	_, strict := rejudgeStrict(t, res)
	reassigned := strict.Causes[report.CauseTokenReassigned]
	hint := strict.Hints[report.CauseTokenReassigned]
	if reassigned == 0 || !strings.HasPrefix(hint, cfgPath+":") || !strings.Contains(hint, "has `option redispatch`") || !strings.Contains(hint, "(redispatch). ") {
		t.Errorf("strict: %d token-reassigned, hint %q; want them tied to option redispatch", reassigned, hint)
	}
	if hc := strict.HAProxyConfig; hc == nil || len(hc.Findings[report.CauseTokenReassigned]) != 1 || !lostByLBWord(strict, "server2") ||
		!bytes.Equal(mustJSON(t, strict.LBState), mustJSON(t, live.LBState)) {
		t.Errorf("strict: config %+v, loss %+v; want the finding and HAProxy's word on server2 as live", hc, strict.BackendLoss)
	}
}

// lostByLBWord: server is a lost backend, HAProxy's word among the
// evidence.
func lostByLBWord(rep *report.Report, server string) bool {
	if rep.BackendLoss == nil {
		return false
	}
	for _, l := range rep.BackendLoss.Lost {
		if l.Backend == server && slices.Contains(l.Evidence, report.EvidenceLBState) {
			return true
		}
	}
	return false
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
