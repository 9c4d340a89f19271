package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/report"
)

// TestRunHAProxyConfigJoin: a probe of the no-server-cookie lab config,
// given that very config, ties its no-token sessions to the server lines
// in the table, the JSON and the hints, and names the served backend.
func TestRunHAProxyConfigJoin(t *testing.T) {
	h := startLB(t, preset(t, "no-server-cookie"))
	cfgPath := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(h.Config()), 0o600); err != nil {
		t.Fatal(err)
	}
	res := probeRun(t, append([]string{"--sessions", "20", "--requests", "4", "--haproxy-config", cfgPath}, hostArgs(h)...)...)
	rep := res.mustReport(t)
	if res.code != exitFail || rep.Causes[report.CauseNoToken] == 0 {
		t.Fatalf("exit %d, causes %v\n%s", res.code, rep.Causes, res.stdout)
	}
	hc := rep.HAProxyConfig
	if hc == nil || len(hc.Served) != 1 || hc.Served[0].Backend != "be_app" || !strings.Contains(hc.Served[0].Rule, "default_backend be_app") {
		t.Fatalf("haproxy_config %+v", hc)
	}
	fs := hc.Findings[report.CauseNoToken]
	if len(fs) != 1 || fs[0].ID != "server-without-cookie" || len(fs[0].Servers) != 3 {
		t.Fatalf("no-token findings %+v", fs)
	}
	first, last := 0, 0 // the server lines, counted from 1
	for i, l := range strings.Split(h.Config(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "server server1 ") {
			first = i + 1
		}
		if strings.HasPrefix(strings.TrimSpace(l), "server server3 ") {
			last = i + 1
		}
	}
	where := fmt.Sprintf("%s:%d-%d", cfgPath, first, last)
	want := where + " servers server1..server3 of backend be_app have no `cookie` value (server-without-cookie). "
	if hint := rep.Hints[report.CauseNoToken]; first == 0 || !strings.HasPrefix(hint, want) || !strings.Contains(hint, report.CauseNoToken.Hint()) {
		t.Errorf("hint %q\nwant it to start with %q", hint, want)
	}
	if !strings.Contains(res.stdout, "the URL is served by backend be_app") || !strings.Contains(res.stdout, "hint for no-token: "+where) {
		t.Errorf("table:\n%s", res.stdout)
	}
}

// TestRunHAProxyConfigLossDefault: --on-backend-loss follows the config
// unless given: balance source alone is failover-return, option
// redispatch failover-stay.
func TestRunHAProxyConfigLossDefault(t *testing.T) {
	for _, tt := range []struct {
		preset string
		want   report.LossPolicy
		args   []string
	}{
		{"source", report.LossFailoverReturn, []string{"--token", "source", "--source-ips", "127.0.0.2-127.0.0.21"}},
		{"redispatch", report.LossFailoverStay, nil},
		{"source", report.LossStrict, []string{"--token", "source", "--source-ips", "127.0.0.2-127.0.0.21", "--on-backend-loss", "strict"}},
	} {
		h := startLB(t, preset(t, tt.preset))
		cfgPath := filepath.Join(t.TempDir(), "haproxy.cfg")
		if err := os.WriteFile(cfgPath, []byte(h.Config()), 0o600); err != nil {
			t.Fatal(err)
		}
		args := append(append([]string{"--sessions", "20", "--requests", "3", "--haproxy-config", cfgPath}, tt.args...), hostArgs(h)...)
		rep := probeRun(t, args...).mustReport(t)
		if rep.Thresholds.OnBackendLoss != tt.want || rep.HAProxyConfig == nil || rep.HAProxyConfig.OnBackendLoss == "" {
			t.Errorf("%s %v: on_backend_loss %s, want %s; haproxy_config %+v", tt.preset, tt.args, rep.Thresholds.OnBackendLoss, tt.want, rep.HAProxyConfig)
		}
		h.Stop()
	}
}

func TestRunHAProxyConfigUnreadable(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.cfg")
	if err := os.WriteFile(bad, []byte("frontend fe\n    bind \":80\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "run", "--haproxy-config", bad, "http://127.0.0.1:1/")
	if code != exitUsage || !strings.Contains(errOut, "--haproxy-config: "+bad+":2: unmatched quote") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestScenarioHAProxyConfigKey: a scenario file's haproxy_config (next to
// it) joins the report as --haproxy-config does, and the file's
// expect.on_backend_loss wins over what the config implies.
func TestScenarioHAProxyConfigKey(t *testing.T) {
	h := startLB(t, preset(t, "redispatch"))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "haproxy.cfg"), []byte(h.Config()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		expect string
		want   report.LossPolicy
	}{{"", report.LossFailoverStay}, {"expect: {on_backend_loss: strict}\n", report.LossStrict}} {
		scenario := filepath.Join(dir, "s.yaml")
		text := "name: with-config\nsessions: 12\nrequests: 3\nhaproxy_config: haproxy.cfg\n" + tt.expect
		if err := os.WriteFile(scenario, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		jsonPath := filepath.Join(dir, "r.json")
		ha := hostArgs(h) // --resolve HOST:PORT:ADDR URL; flags go before the scenario
		code, _, errOut := runCLI(t, "scenario", "run", "--json", jsonPath, "--rate", "0", ha[0], ha[1], scenario, ha[2])
		data, err := os.ReadFile(jsonPath)
		if err != nil {
			t.Fatalf("exit %d: %v\n%s", code, err, errOut)
		}
		var rep report.Report
		if err := json.Unmarshal(data, &rep); err != nil {
			t.Fatal(err)
		}
		hc := rep.HAProxyConfig
		if hc == nil || len(hc.Served) != 1 || hc.Served[0].Backend != "be_app" || hc.Files[0] != filepath.Join(dir, "haproxy.cfg") {
			t.Fatalf("haproxy_config %+v (exit %d, %s)", hc, code, errOut)
		}
		if rep.Thresholds.OnBackendLoss != tt.want || hc.OnBackendLoss != report.LossFailoverStay {
			t.Errorf("%q: on_backend_loss %s (config implies %s), want %s", tt.expect, rep.Thresholds.OnBackendLoss, hc.OnBackendLoss, tt.want)
		}
	}
}
