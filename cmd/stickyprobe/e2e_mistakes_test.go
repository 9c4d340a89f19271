package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
)

// TestMistakesFromSymptomToLine probes each of the lab's broken setups
// that a plain run can see, against the real HAProxy, given its config:
// the run must show the cause the config finding predicts, and the report
// must tie that cause to the finding. This is the join measured end to
// end: what check-config says before a run is what the run then shows.
func TestMistakesFromSymptomToLine(t *testing.T) {
	for _, m := range lab.Mistakes() {
		if !m.Shows || !m.Starts {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			h := startLBWith(t, m.Config, m.Backend)
			cfgPath := filepath.Join(t.TempDir(), "haproxy.cfg")
			if err := os.WriteFile(cfgPath, []byte(h.Config()), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"--sessions", "10", "--requests", "3", "--haproxy-config", cfgPath}
			if m.Token != "" {
				args = append(args, "--token", m.Token)
			}
			if m.Think > 0 {
				args = append(args, "--think", m.Think.String(), "--timeout", "5s")
			}
			rep := probeRun(t, append(args, hostArgs(h)...)...).mustReport(t)
			cause := report.Cause(m.Cause)
			if rep.Causes[cause] == 0 {
				t.Fatalf("causes %v, want %s (verdict %s)", rep.Causes, cause, rep.Verdict)
			}
			hc := rep.HAProxyConfig
			if hc == nil || !slices.ContainsFunc(hc.Findings[cause], func(f report.ConfigFinding) bool { return f.ID == m.Finding }) {
				t.Fatalf("haproxy_config %+v: no %s finding for %s", hc, m.Finding, cause)
			}
			if hint := rep.Hints[cause]; !strings.HasPrefix(hint, cfgPath+":") || !strings.Contains(hint, "("+m.Finding+")") {
				t.Errorf("hint %q", hint)
			}
		})
	}
}
