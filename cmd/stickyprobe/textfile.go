package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/stickyprobe/stickyprobe/metrics"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

// promTextfile is `run --prom-textfile`: the monitor's metrics for one run,
// for node_exporter's textfile collector behind a cron job or systemd
// timer. Counters then cover the last run only; the gauges (stickiness,
// verdict, last success) are what alerts use.
type promTextfile struct {
	path  string
	m     *metrics.Metrics
	cycle *metrics.Cycle
}

// newPromTextfile returns nil when --prom-textfile is not set.
func newPromTextfile(c *cli.Context, spec scenarios.Spec) *promTextfile {
	path := c.String("prom-textfile")
	if path == "" {
		return nil
	}
	m := metrics.New(metrics.Options{Scenario: c.String("scenario-label"), Version: version})
	return &promTextfile{path: path, m: m, cycle: m.NewCycle(summaryOptions(spec))}
}

func (p *promTextfile) add(ev *probe.Event) { p.cycle.Add(ev) }

// finish judges the run and replaces the file. An interrupted run leaves
// the previous file in place: a partial run's verdict would mislead.
func (p *promTextfile) finish(rep *report.Report, stderr io.Writer) error {
	if rep.Run.Interrupted {
		fmt.Fprintf(stderr, "stickyprobe: --prom-textfile %s not updated: the run was interrupted\n", p.path)
		return nil
	}
	p.cycle.Close(rep, time.Now())
	if err := p.m.WriteTextfile(p.path); err != nil {
		return withCode(exitCannotRun, "--prom-textfile: %v", err)
	}
	return nil
}

// checkTextfileDir fails fast, before any request, when the textfile
// cannot be written where asked.
func checkTextfileDir(path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("--prom-textfile %s: %v", path, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("--prom-textfile %s: %s is not a directory", path, dir)
	}
	return nil
}
