package main

import (
	"fmt"
	"io"

	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

// warnRunPlan tells, before a run starts, that its plan cannot fit
// --max-duration: the run will be cut.
func warnRunPlan(w io.Writer, spec scenarios.Spec) {
	if msg := pipeline.PlanMisfit(spec, spec.MaxDuration, "--max-duration"); msg != "" {
		fmt.Fprintf(w, "stickyprobe: warning: %s; the run will be cut there\n", msg)
	}
}
