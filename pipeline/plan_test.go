package pipeline

import (
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

func TestPlanMisfit(t *testing.T) {
	spec := scenarios.Default()
	spec.Sessions, spec.Requests, spec.Rate, spec.ControlSessions = 12, 4, 5, 3
	if msg := PlanMisfit(spec, 12*time.Second, "--every"); msg != "" {
		t.Errorf("60 requests at 5/s in 12 s: %q, want a fit", msg)
	}
	msg := PlanMisfit(spec, 2*time.Second, "--every")
	for _, want := range []string{"--every 2s", "(12 sessions + 3 control) × 4 requests = 60 requests at --rate 5/s take 12s",
		"raise --every to at least 12s or --rate to at least 30"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
	spec.Rate, spec.Think = 0, time.Second
	if msg := PlanMisfit(spec, 2*time.Second, "--max-duration"); !strings.Contains(msg, "each session's 4 requests with --think 1s between them take 3s") {
		t.Errorf("think-bound plan: %q", msg)
	}
	spec.Phases = []scenarios.Phase{{Name: "soak", Kind: scenarios.PhaseRequests, Duration: time.Hour}}
	if msg := PlanMisfit(spec, 2*time.Second, "--every"); msg != "" {
		t.Errorf("a timed phase is cut to fit by design, got %q", msg)
	}
}
