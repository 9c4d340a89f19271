package pipeline

import (
	"errors"
	"io"
	"strings"

	"github.com/stickyprobe/stickyprobe/report"
)

// Needs says what a format is rendered from.
type Needs uint8

const (
	// NeedsReport: the judged report alone.
	NeedsReport Needs = 1 << iota
	// NeedsEvents: the summary's samples choose the sessions, and the
	// recorded events (read back from the events file) give their
	// requests, so headers never accumulate in memory.
	NeedsEvents
)

// Format is one way to render a run's report.
type Format struct {
	Name    string   // as `report --format` takes it
	Aliases []string // other names --format accepts
	Flag    string   // the run flag that writes it to a file; "" for none (the table goes to stdout)
	Usage   string   // the flag's help
	Stdout  bool     // the flag takes - for stdout
	Needs   Needs
	Render  func(w io.Writer, in Input) error
}

// Input is what a format is rendered from. Summary and Events are set
// when the format Needs them.
type Input struct {
	Report  *report.Report
	Summary *report.Summary
	Events  report.EventSource
	HAR     report.HAROptions
}

// Formats is every format, in the order --help lists them.
var Formats = []Format{
	{Name: "table", Needs: NeedsReport,
		Render: func(w io.Writer, in Input) error { return report.Table(w, in.Report) }},
	{Name: "json", Flag: "json", Stdout: true, Needs: NeedsReport,
		Usage:  "write the JSON report (schema stickyprobe.report/v1) to `FILE` (- for stdout)",
		Render: func(w io.Writer, in Input) error { return report.JSON(w, in.Report) }},
	{Name: "markdown", Aliases: []string{"md"}, Flag: "markdown", Needs: NeedsReport,
		Usage:  "write the report as Markdown, to paste into a GitHub or GitLab issue, to `FILE`",
		Render: func(w io.Writer, in Input) error { return report.Markdown(w, in.Report) }},
	{Name: "junit", Flag: "junit", Needs: NeedsReport,
		Usage:  "write a JUnit XML report to `FILE`: one test case per check and per scenario phase",
		Render: func(w io.Writer, in Input) error { return report.JUnit(w, in.Report) }},
	{Name: "har", Flag: "har", Needs: NeedsReport | NeedsEvents,
		Usage: "write the broken sessions as HAR 1.2 to `FILE` (one page per session; opens in a browser's dev tools); secrets redacted",
		Render: func(w io.Writer, in Input) error {
			if in.Summary == nil || in.Events == nil {
				return errors.New("har: no recorded events to build it from")
			}
			return report.HAR(w, in.Summary, in.Events, in.HAR)
		}},
}

// Lookup finds a format by name or alias.
func Lookup(name string) (Format, bool) {
	for _, f := range Formats {
		if f.Name == name {
			return f, true
		}
		for _, a := range f.Aliases {
			if a == name {
				return f, true
			}
		}
	}
	return Format{}, false
}

// FormatNames lists the formats' names for a message: "table, json, ...".
func FormatNames() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = f.Name
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// FileFormats are the formats a run writes to a file given by their flag.
func FileFormats() []Format {
	var out []Format
	for _, f := range Formats {
		if f.Flag != "" {
			out = append(out, f)
		}
	}
	return out
}
