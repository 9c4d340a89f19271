package pipeline

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"

	"github.com/stickyprobe/stickyprobe/internal/atomicfile"
	"github.com/stickyprobe/stickyprobe/metrics"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// reportsSink writes the report in every format the run opened, and the
// table, once the summary has judged the run.
type reportsSink struct{ r *prepared }

func (reportsSink) Add(*probe.Event) {}

func (s *reportsSink) Close(res *Result) error {
	r := s.r
	in := Input{Report: res.Report, Summary: res.Summary}
	var first error
	for _, f := range r.op.files {
		if f.format.Needs&NeedsEvents != 0 {
			src, err := r.eventsFor(f.format)
			if err != nil {
				if f.f != nil {
					f.f.Abort()
				}
				first = cmp(first, err)
				continue
			}
			in.Events, in.HAR = src, src.HAROptions(r.o.Outputs.HARAll)
		}
		if err := f.render(r.o.Stdout, in); err != nil {
			first = cmp(first, fmt.Errorf("--%s: %w", f.format.Flag, err))
		}
	}
	if !r.o.Outputs.Quiet {
		tableTo := r.o.Stdout
		if r.op.stdout != "" {
			tableTo = r.o.Stderr // stdout stays machine-readable
		}
		if err := report.Table(tableTo, res.Report); err != nil {
			first = cmp(first, err)
		}
	}
	return first
}

// eventsFor reads back the events file the run wrote, for a format that
// needs the recorded events (the HAR).
func (r *prepared) eventsFor(f Format) (*report.Replay, error) {
	if r.events == nil || r.events.harFrom == "" || r.events.err != nil {
		return nil, fmt.Errorf("--%s: the events were not recorded", f.Flag)
	}
	rp, err := report.OpenReplay(r.events.harFrom)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", f.Flag, err)
	}
	return rp, nil
}

func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// promSink is --prom-textfile for one run: the monitor's metrics, for
// node_exporter's textfile collector behind a cron job or systemd timer.
// Counters then cover the last run only; the gauges (stickiness, verdict,
// last success) are what alerts use.
type promSink struct {
	f      *atomicfile.File
	m      *metrics.Metrics
	cycle  *metrics.Cycle
	stderr io.Writer
	clock  Clock
}

func newPromSink(f *atomicfile.File, mo metrics.Options, opts report.Options, stderr io.Writer, c Clock) *promSink {
	m := metrics.New(mo)
	return &promSink{f: f, m: m, cycle: m.NewCycle(opts), stderr: stderr, clock: c}
}

func (p *promSink) Add(ev *probe.Event) { p.cycle.Add(ev) }

// Close judges the run and replaces the file. An interrupted run leaves
// the previous file in place: a partial run's verdict would mislead.
func (p *promSink) Close(res *Result) error {
	if res.Run.Interrupted {
		p.f.Abort()
		fmt.Fprintf(p.stderr, "stickyprobe: --prom-textfile %s not updated: the run was interrupted\n", p.f.Path())
		return nil
	}
	p.cycle.Close(res.Report, p.clock.Now())
	if err := p.m.WriteText(p.f); err != nil {
		p.f.Abort()
		return fmt.Errorf("--prom-textfile: %w", err)
	}
	if err := p.f.Commit(); err != nil {
		return fmt.Errorf("--prom-textfile: %w", err)
	}
	return nil
}

// StdoutGuard wraps stdout so that a reader that went away (`| head -1`:
// EPIPE) stops what goes to stdout with one message on stderr, while the
// other outputs are still written and the exit code still tells the
// verdict. Other write errors pass through.
func StdoutGuard(stdout, stderr io.Writer) io.Writer {
	return &pipeGuard{w: stdout, stderr: stderr}
}

type pipeGuard struct {
	w, stderr io.Writer
	mu        sync.Mutex
	broken    bool
}

func (g *pipeGuard) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.broken {
		return len(p), nil
	}
	n, err := g.w.Write(p)
	if err != nil && errors.Is(err, syscall.EPIPE) {
		g.broken = true
		fmt.Fprintln(g.stderr, "stickyprobe: stdout was closed (broken pipe): nothing more goes to it; the other outputs are still written")
		return len(p), nil
	}
	return n, err
}
