package main

import (
	"fmt"

	"github.com/stickyprobe/stickyprobe/haplog"
	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/urfave/cli/v2"
)

func runHAProxyLogFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "haproxy-log", Category: catLB,
		Usage: "HAProxy's HTTP log `FILE` (repeatable, one per LB node): after the report, show what HAProxy recorded for each broken session's switch, " +
			"as `stickyprobe logs --events` does; only the lines the run added are read"}
}

// runHAProxyLog is haplog.RunLog as a sink of the run: it remembers the
// switches, and prints the join once the report is out.
type runHAProxyLog struct{ *haplog.RunLog }

// newRunHAProxyLog reads --haproxy-log; nil when the flag is not set.
func newRunHAProxyLog(c *cli.Context) (*runHAProxyLog, error) {
	files := c.StringSlice("haproxy-log")
	if len(files) == 0 {
		return nil, nil
	}
	stdout := c.App.Writer
	if c.String("json") == "-" || c.String("events") == "-" {
		stdout = c.App.ErrWriter // stdout is JSON
	}
	rl, err := haplog.NewRunLog(files, stdout, c.App.ErrWriter)
	if err != nil {
		return nil, fmt.Errorf("--haproxy-log: %v", err)
	}
	return &runHAProxyLog{rl}, nil
}

// Close prints the join after the run's own report.
func (h *runHAProxyLog) Close(res *pipeline.Result) error {
	h.Finish(res.Report)
	return nil
}
