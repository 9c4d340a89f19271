package pipeline

import (
	"fmt"
	"math"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// A plan that cannot be sent within its time budget is cut: sessions get
// fewer responses than asked for, too few to be judged when the cut comes
// early. That is known before the first request, from the plan alone:
// (sessions + control) × requests ÷ --rate, and each session's requests ×
// --think one after the other.

// planNeed is the least time the plan's counted requests phases take,
// paced by --rate and by each session's --think; timed phases fit any
// budget (they are cut to it by design).
func planNeed(spec scenarios.Spec) (paced, think time.Duration, requests, perSession int) {
	sessions := spec.Sessions + spec.Control()
	for _, p := range spec.Plan() {
		if p.Kind != scenarios.PhaseRequests || p.Requests == 0 {
			continue
		}
		requests += sessions * p.Requests
		perSession += p.Requests
		if spec.Rate > 0 {
			paced += time.Duration(float64(sessions*p.Requests) / spec.Rate * float64(time.Second))
		}
		if p.Think != nil && p.Requests > 1 {
			think += time.Duration(p.Requests-1) * *p.Think
		}
	}
	return paced, think, requests, perSession
}

// PlanMisfit says why spec's plan cannot be sent within budget (named by
// flag, the setting the caller's user changes), with the settings to
// change, in the CLI's flag names; "" when it fits.
func PlanMisfit(spec scenarios.Spec, budget time.Duration, flag string) string {
	paced, think, requests, perSession := planNeed(spec)
	round := func(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) }
	switch {
	case paced > budget && paced >= think:
		return fmt.Sprintf("%s %v is too short for the plan: (%d sessions + %d control) × %d requests = %d requests at --rate %g/s take %v; "+
			"raise %s to at least %v or --rate to at least %g, or lower --sessions, --requests or --control",
			flag, budget, spec.Sessions, spec.Control(), perSession, requests, spec.Rate, round(paced),
			flag, round(paced), math.Ceil(float64(requests)/budget.Seconds()))
	case think > budget:
		return fmt.Sprintf("%s %v is too short for the plan: each session's %d requests with --think %v between them take %v; "+
			"raise %s to at least %v, or lower --think or --requests",
			flag, budget, perSession, spec.Think, round(think), flag, round(think))
	}
	return ""
}
