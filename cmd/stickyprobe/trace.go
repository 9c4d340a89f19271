package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/stickyprobe/stickyprobe/redact"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

// trace is what a run writes to reproduce a bug elsewhere: the HAR and
// Markdown report, -vv headers, and how secrets are hidden in all of it.
type trace struct {
	harPath, markdownPath string
	harAll                bool
	headers               bool // -vv
	color                 bool // -v lines in color (a terminal, no NO_COLOR)
	redactor              *redact.Redactor
	command               func(seed uint64) string // the rerun command, once the seed is known
}

const showSecretsWarning = "stickyprobe: WARNING: --show-secrets: cookie values, Authorization, Proxy-Authorization " +
	"and --redact-header values are written IN CLEAR to the events, HAR, reports and -vv output. " +
	"Do not attach these files to a ticket."

// traceOutputs reads the trace flags of the run command.
func traceOutputs(c *cli.Context, spec scenarios.Spec, out *outputs) error {
	t := &out.trace
	t.harPath, t.harAll, t.markdownPath = c.String("har"), c.Bool("har-all"), c.String("markdown")
	switch {
	case t.harAll && t.harPath == "":
		return errors.New("--har-all: give --har FILE too")
	case t.harPath == "-" || t.markdownPath == "-":
		return errors.New("--har and --markdown write to a file, not stdout (- is for --json and --events); " +
			"`stickyprobe report --format har|markdown EVENTS` prints them")
	}
	t.headers = c.Count("verbose") >= 2
	t.color = useColor(c.App.ErrWriter)
	names := c.StringSlice("redact-header")
	for _, n := range names {
		if _, err := scenarios.ParseHeader(n + ":x"); err != nil || n == "" {
			return fmt.Errorf("--redact-header %q: not a header name", n)
		}
	}
	if c.Bool("show-secrets") {
		t.redactor = redact.Off()
		fmt.Fprintln(c.App.ErrWriter, showSecretsWarning)
	} else {
		t.redactor = redact.New(names...)
	}
	// A secret the user gave on the command line is hidden wherever it
	// comes back, such as a backend echoing Authorization.
	for _, h := range spec.Headers {
		if t.redactor.Sensitive(h.Name) {
			t.redactor.AddSecret(h.Value)
		}
	}
	t.command = func(seed uint64) string { return rerunCommand(c, spec, seed, t.redactor) }
	return nil
}

// eventsHeader is the first line of the events file: what a replay needs
// besides the events to print the same report.
func eventsHeader(spec scenarios.Spec, opts report.Options, run report.Run, rd *redact.Redactor) report.EventsHeader {
	return report.EventsHeader{
		Creator:  "stickyprobe " + version,
		Sessions: spec.Sessions,
		Control:  spec.Control(),
		Redacted: rd.Enabled(),
		Options:  opts,
		Run:      run,
	}
}

// writeEvidence writes the Markdown report and the HAR.
func writeEvidence(rep *report.Report, summary *report.Summary, sink *eventSink, out outputs) error {
	if out.markdownPath != "" {
		if err := writeFile(out.markdownPath, !out.redactor.Enabled(), func(w io.Writer) error { return report.Markdown(w, rep) }); err != nil {
			return fmt.Errorf("--markdown: %w", err)
		}
	}
	if out.harPath != "" && sink != nil {
		if err := writeHAR(out.harPath, out.harAll, !out.redactor.Enabled(), summary, sink.path); err != nil {
			return fmt.Errorf("--har: %w", err)
		}
	}
	return nil
}
