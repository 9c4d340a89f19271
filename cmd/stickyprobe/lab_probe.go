package main

import (
	"context"
	"io"

	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

// outputs are the few a lab case asks for: its report, no table.
type outputs struct {
	stdout, stderr io.Writer
	quiet, verbose bool
}

// execute probes one lab case through the pipeline and returns its report
// and the exit status as an error (nil for a pass).
func execute(ctx context.Context, spec scenarios.Spec, out outputs) (*report.Report, error) {
	res, err := pipeline.Run(ctx, spec, pipeline.Options{
		Outputs: pipeline.Outputs{Quiet: out.quiet},
		Stdout:  out.stdout, Stderr: out.stderr,
		Verbose: out.verbose,
		Creator: "stickyprobe " + version,
		LB:      lbAuto,
	})
	if res == nil {
		return nil, err
	}
	return res.Report, runExit(res, err)
}
