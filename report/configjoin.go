package report

import (
	"fmt"
	"strings"
)

// ConfigJoin is what a run took from the HAProxy configs it was given,
// before it is tied to the run's causes: the served backends, the loss
// policy the config implies, and every finding about the served
// backends, whichever cause it points at. The events trailer keeps it,
// so a replay ties the causes again: a re-judged report (other
// thresholds, other broken sessions, other causes) gets the hints of its
// own causes, not the live run's.
type ConfigJoin struct {
	Files             []string        `json:"files"`
	Served            []ServedBackend `json:"served,omitempty"`
	OnBackendLoss     LossPolicy      `json:"on_backend_loss,omitempty"`
	OnBackendLossFrom string          `json:"on_backend_loss_from,omitempty"`
	Findings          []JoinFinding   `json:"findings,omitempty"`
}

// JoinFinding is a finding about a served backend (or any backend, when
// none could be decided), with what a run can show of it.
type JoinFinding struct {
	ConfigFinding
	Cause   Cause `json:"cause,omitempty"`   // "": no run shows it
	Failing bool  `json:"failing,omitempty"` // an error or a warning: counted as another finding when no cause of the run points at it
}

// Apply ties rep's causes to the findings that explain them: each such
// cause's hint starts with them, and rep.HAProxyConfig carries them, with
// the served backends and the loss policy. A nil join does nothing.
func (j *ConfigJoin) Apply(rep *Report) {
	if j == nil || rep == nil {
		return
	}
	hc := &HAProxyConfig{Files: j.Files, Served: j.Served, OnBackendLoss: j.OnBackendLoss,
		OnBackendLossFrom: j.OnBackendLossFrom, join: j}
	for _, f := range j.Findings {
		if f.Cause == "" || rep.Causes[f.Cause] == 0 {
			if f.Failing {
				hc.Other++
			}
			continue
		}
		if hc.Findings == nil {
			hc.Findings = map[Cause][]ConfigFinding{}
		}
		hc.Findings[f.Cause] = append(hc.Findings[f.Cause], f.ConfigFinding)
	}
	for cause, fs := range hc.Findings {
		var parts []string
		for _, f := range fs {
			parts = append(parts, fmt.Sprintf("%s %s (%s)", f.Where, problemSummary(f.Problem), f.ID))
		}
		if rep.Hints == nil {
			rep.Hints = map[Cause]string{}
		}
		rest := rep.Hints[cause]
		if rest == "" {
			rest = cause.Hint()
		}
		rep.Hints[cause] = clean(strings.Join(parts, "; ")) + ". " + rest
	}
	rep.HAProxyConfig = hc
}

// problemSummary is a problem's first clause, the part before its
// explanation.
func problemSummary(problem string) string {
	if i := strings.Index(problem, ": "); i > 0 {
		return problem[:i]
	}
	return problem
}
