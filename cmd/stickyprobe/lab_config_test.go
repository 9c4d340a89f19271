package main

import (
	"strings"
	"testing"
)

// TestLabShowsConfigLine: each HAProxy row of the lab shows the line
// check-config points at next to the probe's verdict, and the lines
// agree with the verdicts: clean where the probe passes, the mistake
// where it fails.
func TestLabShowsConfigLine(t *testing.T) {
	code, out, errOut := runCLI(t, "lab", "--lb", "haproxy", "--sessions", "10", "--requests", "3")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	want := map[string][]string{
		"textbook":         {"PASS", "clean"},
		"nodes-disagree":   {"FAIL", "node2.cfg:", "cookie-value-differs"},
		"no-cookie":        {"FAIL", "haproxy.cfg:", "no-persistence"},
		"no-server-cookie": {"FAIL", "server-without-cookie"},
		"cookie-domain":    {"FAIL", "domain-mismatch"},
		"cookie-secure":    {"FAIL", "secure-without-ssl"},
		"stick-app-cookie": {"PASS", "clean"},
		"single-backend":   {"INCONCLUSIVE", "clean"},
	}
	if !strings.Contains(out, "CONFIG CHECK") {
		t.Errorf("no config check column:\n%s", out)
	}
	for name, parts := range want {
		row := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "│ "+name+" ") {
				row = l
			}
		}
		for _, p := range parts {
			if !strings.Contains(row, p) {
				t.Errorf("%s: row %q lacks %q", name, row, p)
			}
		}
	}
}
