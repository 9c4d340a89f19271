package report

import (
	"bytes"
	"fmt"
	"strings"
)

// HAProxyConfig is what a run read in the HAProxy config it was given
// (run --haproxy-config): which backend served the probed URL, the
// --on-backend-loss the config implies, and the config's findings
// behind each cause of the run. Package hacheck fills it in.
type HAProxyConfig struct {
	Files             []string                  `json:"files"`
	Served            []ServedBackend           `json:"served,omitempty"`               // per file (LB node)
	OnBackendLoss     LossPolicy                `json:"on_backend_loss,omitempty"`      // implied by the config; "" none
	OnBackendLossFrom string                    `json:"on_backend_loss_from,omitempty"` // "haproxy.cfg:23 option redispatch"
	Findings          map[Cause][]ConfigFinding `json:"findings,omitempty"`             // per cause seen in this run
	Other             int                       `json:"other_findings,omitempty"`       // findings of the served backends no cause of this run points at

	join *ConfigJoin // what it was made from (ConfigJoin.Apply), for the events trailer
}

// ServedBackend is the backend a frontend's rules send the probed URL
// to, or why that cannot be decided from the config alone.
type ServedBackend struct {
	File     string `json:"file"`
	Frontend string `json:"frontend,omitempty"`
	Backend  string `json:"backend,omitempty"`
	Rule     string `json:"rule,omitempty"`
	Note     string `json:"note,omitempty"`
}

// ConfigFinding is one finding of `stickyprobe check-config`.
type ConfigFinding struct {
	ID       string   `json:"id"`
	Severity string   `json:"severity"`
	Where    string   `json:"where"` // file:line or file:first-last
	Backend  string   `json:"backend,omitempty"`
	Servers  []string `json:"servers,omitempty"`
	Problem  string   `json:"problem"`
	Fix      string   `json:"fix,omitempty"`
}

func writeHAProxyConfig(b *bytes.Buffer, r *Report) {
	hc := r.HAProxyConfig
	if hc == nil {
		return
	}
	b.WriteByte('\n')
	for _, line := range haproxyConfigLines(hc) {
		writeWrapped(b, line, "", "  ")
	}
}

func mdHAProxyConfig(b *bytes.Buffer, r *Report) {
	hc := r.HAProxyConfig
	if hc == nil {
		return
	}
	b.WriteString("\n### HAProxy config\n\n")
	for _, line := range haproxyConfigLines(hc) {
		b.WriteString("- " + md(line) + "\n")
	}
}

// haproxyConfigLines say what the config decided: the served backend per
// node, the loss policy, and how many findings explain the causes.
func haproxyConfigLines(hc *HAProxyConfig) []string {
	var out []string
	for _, s := range hc.Served {
		switch {
		case s.Backend != "":
			out = append(out, fmt.Sprintf("config %s: the URL is served by backend %s (%s)", clean(s.File), clean(s.Backend), clean(s.Rule)))
		default:
			out = append(out, fmt.Sprintf("config %s: which backend serves the URL is not decided by the config: %s", clean(s.File), clean(s.Note)))
		}
	}
	if hc.OnBackendLoss != "" {
		out = append(out, fmt.Sprintf("the config implies --on-backend-loss %s (%s)", clean(string(hc.OnBackendLoss)), clean(hc.OnBackendLossFrom)))
	}
	n := 0
	for _, fs := range hc.Findings {
		n += len(fs)
	}
	if n > 0 {
		out = append(out, fmt.Sprintf("%d config finding(s) explain the causes below (in their hints)", n))
	}
	if hc.Other > 0 {
		out = append(out, fmt.Sprintf("%d other finding(s) in the served backends: see `stickyprobe check-config %s`", hc.Other, clean(strings.Join(hc.Files, " "))))
	}
	return out
}
