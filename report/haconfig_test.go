package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestSideBySideConfigColumn(t *testing.T) {
	rows := []Labeled{
		{Name: "a", Report: &Report{Verdict: Pass}},
		{Name: "b", Report: &Report{Verdict: Fail, Causes: map[Cause]int{CauseNoToken: 3}}, ConfigLine: "haproxy.cfg:22-24 server-without-cookie"},
	}
	var b bytes.Buffer
	if err := SideBySide(&b, rows); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "CONFIG CHECK") || !strings.Contains(b.String(), "haproxy.cfg:22-24 server-without-cookie") {
		t.Errorf("%s", b.String())
	}
	b.Reset()
	if err := SideBySide(&b, rows[:1]); err != nil || strings.Contains(b.String(), "CONFIG CHECK") {
		t.Errorf("a column without a value:\n%s", b.String())
	}
}

func TestHAProxyConfigSection(t *testing.T) {
	r := &Report{Verdict: Fail, HAProxyConfig: &HAProxyConfig{
		Files:         []string{"lb1.cfg", "lb2.cfg"},
		Served:        []ServedBackend{{File: "lb1.cfg", Backend: "be_api", Rule: "lb1.cfg:45 use_backend be_api if host_api"}, {File: "lb2.cfg", Note: "lb2.cfg:40 `use_backend be_x if { src 10.0.0.0/8 }` depends on more than the URL"}},
		OnBackendLoss: LossFailoverStay, OnBackendLossFrom: "lb1.cfg:23 option redispatch",
		Findings: map[Cause][]ConfigFinding{CauseNoToken: {{ID: "server-without-cookie"}}},
		Other:    2,
	}}
	var b bytes.Buffer
	if err := Table(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"config lb1.cfg: the URL is served by backend be_api (lb1.cfg:45 use_backend be_api if host_api)",
		"config lb2.cfg: which backend serves the URL is not decided", "the config implies --on-backend-loss failover-stay (lb1.cfg:23 option redispatch)",
		"1 config finding(s) explain", "2 other finding(s)", "stickyprobe check-config lb1.cfg lb2.cfg"} {
		if !strings.Contains(strings.Join(strings.Fields(b.String()), " "), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := Markdown(&b, r); err != nil || !strings.Contains(b.String(), "### HAProxy config") {
		t.Errorf("markdown: %v\n%s", err, b.String())
	}
}
