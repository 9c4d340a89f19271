package hacheck

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/stickyprobe/stickyprobe/hacfg"
	"github.com/stickyprobe/stickyprobe/report"
)

// Join is what a probe run takes from the HAProxy configs it is given:
// their findings, the backend that serves the probed URL on each node,
// and the --on-backend-loss policy the config implies.
type Join struct {
	Files    []string
	Findings []Finding
	Served   []report.ServedBackend
	Loss     report.LossPolicy // "" when the config implies none
	LossFrom string            // "haproxy.cfg:23 option redispatch"
	backends map[string]bool   // the served backends; empty when undecided
}

// Prepare reads and checks the configs for a run of URL u (the first
// target). Errors are those of CheckFiles.
func Prepare(ctx context.Context, paths []string, u *url.URL, o FileOptions) (*Join, error) {
	o.URL = u
	res, cfgs, err := CheckFiles(ctx, paths, o)
	if err != nil {
		return nil, err
	}
	j := &Join{Files: paths, Findings: res.Findings, backends: map[string]bool{}}
	for _, cfg := range cfgs {
		host := o.Host
		if host == "" {
			host = u.Host
		}
		s := ServedByHost(cfg, u, host)
		j.Served = append(j.Served, report.ServedBackend{File: cfg.File, Frontend: s.Frontend, Backend: s.Backend, Rule: s.Rule, Note: s.Note})
		if s.Backend == "" {
			continue
		}
		j.backends[s.Backend] = true
		if j.Loss == "" {
			if be := cfg.Find("backend", s.Backend); be != nil {
				j.Loss, j.LossFrom = impliedLoss(newBackendView(cfg, be, len(cfgs)))
			}
		}
	}
	return j, nil
}

// impliedLoss is what the backend does when a user's server goes away:
// hashing alone brings the user back when it returns (failover-return);
// `option redispatch` moves the user and keeps them there (failover-stay).
func impliedLoss(b *backendView) (report.LossPolicy, string) {
	if hashAlgos[b.balanceAlgo()] && b.cookie == nil && len(b.sticks) == 0 {
		return report.LossFailoverReturn, b.balance.Pos() + " " + strings.Join(b.balance.Args, " ")
	}
	if on, l, ok := b.sec.Option("redispatch"); ok && on {
		return report.LossFailoverStay, l.Pos() + " " + strings.Join(l.Args, " ")
	}
	return "", ""
}

// relevant: a finding about a served backend, or about any backend when
// none could be decided; findings about no backend (haproxy -c's global
// messages) are not tied to a cause.
func (j *Join) relevant(f Finding) bool {
	if f.Backend == "" {
		return false
	}
	return len(j.backends) == 0 || j.backends[f.Backend]
}

// Annotate ties the report's causes to the findings that explain them:
// each such cause's hint starts with them, and rep.HAProxyConfig carries
// them for JSON, with the served backends and the loss policy.
func (j *Join) Annotate(rep *report.Report) { j.ReportJoin().Apply(rep) }

// ReportJoin is what a run keeps of j: every finding about the served
// backends, so the events trailer has it and a replay, re-judged or not,
// ties its own causes to them.
func (j *Join) ReportJoin() *report.ConfigJoin {
	cj := &report.ConfigJoin{Files: j.Files, Served: j.Served, OnBackendLoss: j.Loss, OnBackendLossFrom: j.LossFrom}
	for _, f := range j.Findings {
		if !j.relevant(f) {
			continue
		}
		cj.Findings = append(cj.Findings, report.JoinFinding{Cause: f.Cause, Failing: f.Severity.Failing(),
			ConfigFinding: report.ConfigFinding{ID: f.ID, Severity: string(f.Severity), Where: f.Pos(), Backend: f.Backend,
				Servers: f.Servers, Problem: f.Problem, Fix: f.Fix}})
	}
	return cj
}

// Pointer is the place check-config points at first in configs given as
// text (one per LB node: haproxy.cfg, or node1.cfg, node2.cfg, ...):
// "haproxy.cfg:22-24 server-without-cookie", or "clean". Errors come first,
// then warnings, then info; a config that does not parse says where.
func Pointer(texts []string, u *url.URL) string {
	var cfgs []*hacfg.Config
	for i, text := range texts {
		name := "haproxy.cfg"
		if len(texts) > 1 {
			name = fmt.Sprintf("node%d.cfg", i+1)
		}
		cfg, err := hacfg.Parse(name, []byte(text), hacfg.Options{})
		if err != nil {
			return err.Error()
		}
		cfgs = append(cfgs, cfg)
	}
	fs := Check(cfgs, Options{URL: u})
	if len(fs) == 0 {
		return "clean"
	}
	best := fs[0]
	for _, f := range fs[1:] {
		if f.Severity.rank() < best.Severity.rank() {
			best = f
		}
	}
	return best.Pos() + " " + best.ID
}
