package report

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// This file is the only user of tablewriter: its API changed between major
// versions, so it stays in one place.

// tableWidth is the terminal width the report is laid out for.
const tableWidth = 100

// maxCell bounds a table cell holding a name a server chose.
const maxCell = 40

// maxBackendRows bounds the backends table: a backend that names itself
// with a request id must not print thousands of rows.
const maxBackendRows = 24

// Table writes the report an operator reads: the verdict and its reasons,
// a summary, the control group's sensitivity, the backends, and for broken
// sessions their causes, hints and one timeline per cause. The output is
// deterministic and has no color; it is written in one Write.
func Table(w io.Writer, r *Report) error {
	if r == nil {
		r = new(Report)
	}
	var b bytes.Buffer
	writeVerdict(&b, r)
	writeRerun(&b, r)
	if err := writeSummary(&b, r); err != nil {
		return err
	}
	writeSensitivity(&b, r)
	writePhases(&b, r)
	if err := writeBackends(&b, r); err != nil {
		return err
	}
	if err := writeTopology(&b, r); err != nil {
		return err
	}
	writeLBState(&b, r)
	writeHAProxyConfig(&b, r)
	if err := writeCauses(&b, r); err != nil {
		return err
	}
	writeTimelines(&b, r)
	_, err := w.Write(b.Bytes())
	return err
}

// newTable returns a table with per-column alignment; the header follows
// the columns' alignment.
func newTable(w io.Writer, align ...tw.Align) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft, PerColumn: align}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft, PerColumn: align}),
	)
}

// renderRows writes a table with a header; numbers (every column but the
// first) are right-aligned.
func renderRows(b *bytes.Buffer, header []string, rows [][]string) error {
	align := []tw.Align{tw.AlignLeft}
	for range header[1:] {
		align = append(align, tw.AlignRight)
	}
	t := tablewriter.NewTable(b,
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft, PerColumn: align}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft, PerColumn: align}),
		tablewriter.WithHeaderAutoFormat(tw.Off), // backend names as they are: "s1", not "S 1"
	)
	t.Header(header)
	return appendRows(t, rows)
}

func appendRows(t *tablewriter.Table, rows [][]string) error {
	for _, row := range rows {
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
}

func writeVerdict(b *bytes.Buffer, r *Report) {
	v := strings.ToUpper(string(r.Verdict))
	if v == "" {
		v = "NONE (empty report)"
	}
	fmt.Fprintf(b, "VERDICT: %s\n", v)
	if r.Run.Interrupted {
		writeWrapped(b, "interrupted: partial report; the run was stopped before its end and the verdict covers only the requests sent", "  ", "    ")
	}
	if r.Run.Truncated {
		writeWrapped(b, "stopped at --max-duration: fewer requests were sent than planned", "  ", "    ")
	}
	if r.Run.Cut > 0 {
		writeWrapped(b, cutLine(r.Run.Cut), "  ", "    ")
	}
	for _, reason := range r.Reasons {
		writeWrapped(b, reason, "  ", "    ")
	}
	if len(r.Run.Targets) > 0 || !r.Run.Started.IsZero() {
		b.WriteByte('\n')
		line := "probed " + orDash(strings.Join(r.Run.Targets, ", "))
		if !r.Run.Started.IsZero() {
			line += " at " + r.Run.Started.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		if r.Run.DurationS > 0 {
			line += " for " + time.Duration(r.Run.DurationS*float64(time.Second)).Round(100*time.Millisecond).String()
		}
		settings := "conn " + orDash(r.Run.Conn) + topologySettings(r.Run)
		if len(r.Run.Vantages) > 0 {
			line += fmt.Sprintf(" (%s)", settings) // each vantage has its seed
		} else {
			line += fmt.Sprintf(" (%s, seed %d)", settings, r.Run.Seed)
		}
		writeWrapped(b, line, "", "  ")
	}
}

func writeSummary(b *bytes.Buffer, r *Report) error {
	c := r.Summary
	stickiness := "n/a (no session judged)"
	if c.Sticky+c.Broken > 0 {
		stickiness = pct(c.Stickiness)
	}
	errs := fmt.Sprintf("%d (%s)", c.Errors, pct(c.ErrorRate))
	lat := r.LatencyMS
	if lat.Max == 0 { // no response, or none measurable
		lat = Latency{P50: -1, P90: -1, P99: -1, Max: -1}
	}
	rows := [][]string{
		{"sessions", strconv.Itoa(c.Sessions), "requests", strconv.FormatInt(c.Requests, 10)},
		{"sticky", stickyText(c), "errors", errs},
		{"broken", strconv.Itoa(c.Broken), "latency p50", msText(lat.P50)},
		{"unidentified", strconv.Itoa(c.Unidentified), "latency p90", msText(lat.P90)},
		{"stickiness", stickiness, "latency p99", msText(lat.P99)},
		{"token", shorten(clean(tokenText(r.Run)), maxCell), "latency max", msText(lat.Max)},
		{"identity", shorten(clean(orDash(r.Run.Identify)), maxCell), "off-pin responses", strconv.FormatInt(c.Switches, 10)},
	}
	b.WriteByte('\n')
	if err := appendRows(newTable(b), rows); err != nil {
		return err
	}
	if c.Errors > 0 && len(r.Errors) > 0 {
		writeWrapped(b, "errors by kind: "+countList(r.Errors), "", "  ")
	}
	writeNotes(b, r)
	return nil
}

// stickyText is the sticky count, with the moves --on-backend-loss
// expected among them.
func stickyText(c Counts) string {
	if c.Moved > 0 {
		return fmt.Sprintf("%d (%d moved)", c.Sticky, c.Moved)
	}
	return strconv.Itoa(c.Sticky)
}

func tokenText(run Run) string {
	switch {
	case run.Token == "":
		return orDash(run.TokenName)
	case run.TokenName == "" && run.Token == "auto":
		return "auto (no cookie seen)"
	case run.TokenName == "" || strings.HasSuffix(run.Token, ":"+run.TokenName):
		return run.Token
	}
	return run.Token + " (" + run.TokenName + ")"
}

func writeSensitivity(b *bytes.Buffer, r *Report) {
	b.WriteByte('\n')
	writeWrapped(b, sensitivityLine(r), "", "  ")
}

// sensitivityLine says what the control group showed.
func sensitivityLine(r *Report) string {
	ctl := r.Control
	without := "without cookies"
	switch {
	case r.Run.Token == "source" && r.Run.SourceIPs != "":
		without = "with a new source address per request"
	case r.Run.Token == "source":
		without = "from this machine's one address (--source-ips gives them a new one per request)"
	}
	switch {
	case ctl.Sessions == 0:
		return "control group: none (--control 0), so the run's sensitivity was not measured"
	case ctl.Judged == 0:
		return fmt.Sprintf("control group: 0 of %d sessions %s got two identified responses, "+
			"so the run's sensitivity is unknown", ctl.Sessions, without)
	case ctl.Switched == 0:
		return fmt.Sprintf("control group: 0 of %d sessions %s changed backend (sensitivity 0%%): "+
			"this run could not have seen broken persistence", ctl.Judged, without)
	}
	return fmt.Sprintf("control group: %d of %d sessions %s changed backend (sensitivity %s)",
		ctl.Switched, ctl.Judged, without, pct0(ctl.Sensitivity))
}

func writeBackends(b *bytes.Buffer, r *Report) error {
	b.WriteByte('\n')
	if len(r.Backends) == 0 {
		line := "backends: no response named a backend (check --id)"
		if r.Summary.Errors >= r.Summary.Requests {
			line = "backends: none seen, no request got a response"
		}
		writeWrapped(b, line, "", "  ")
		return nil
	}
	names := make([]string, 0, len(r.Backends))
	var identified int64
	for name, be := range r.Backends {
		names = append(names, name)
		identified += be.Requests
	}
	hidden := 0
	var hiddenRq int64
	if len(names) > maxBackendRows {
		// Keep the busiest, then list them by name.
		slices.SortFunc(names, func(x, y string) int {
			return cmp.Or(cmp.Compare(r.Backends[y].Requests, r.Backends[x].Requests), strings.Compare(x, y))
		})
		for _, name := range names[maxBackendRows:] {
			hidden++
			hiddenRq += r.Backends[name].Requests
		}
		names = names[:maxBackendRows]
	}
	slices.Sort(names)
	rows := make([][]string, 0, len(names))
	for _, name := range names {
		be := r.Backends[name]
		share := "-"
		if identified > 0 {
			share = pct(float64(be.Requests) / float64(identified))
		}
		rows = append(rows, []string{shorten(clean(name), maxCell), strconv.Itoa(be.Sessions), strconv.FormatInt(be.Requests, 10), share})
	}
	t := newTable(b, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight)
	t.Header("backend", "pinned sessions", "requests", "share")
	if err := appendRows(t, rows); err != nil {
		return err
	}
	if hidden > 0 {
		writeWrapped(b, fmt.Sprintf("… and %d more backends with %d requests (the JSON report lists every one)", hidden, hiddenRq), "", "  ")
	}
	if unnamed := r.Summary.Requests - identified; unnamed > 0 {
		writeWrapped(b, fmt.Sprintf("%d of %d requests got no response naming a backend; share is of the %d that did",
			unnamed, r.Summary.Requests, identified), "", "  ")
	}
	return nil
}

// causeOrder lists the report's causes in the order of Causes, then any
// cause this version does not know, by name.
func causeOrder(r *Report) []Cause {
	var out []Cause
	for _, c := range Causes {
		if r.Causes[c] > 0 {
			out = append(out, c)
		}
	}
	var unknown []Cause
	for c, n := range r.Causes {
		if n > 0 && !slices.Contains(Causes, c) {
			unknown = append(unknown, c)
		}
	}
	slices.Sort(unknown)
	return append(out, unknown...)
}

func writeCauses(b *bytes.Buffer, r *Report) error {
	causes := causeOrder(r)
	if len(causes) == 0 {
		return nil
	}
	if expectSpread(r) {
		b.WriteByte('\n')
		writeWrapped(b, fmt.Sprintf("token none: sessions are expected to spread over the backends, so the %d "+
			"that changed backend are not broken persistence", r.Summary.Broken), "", "  ")
		return nil
	}
	broken := 0
	for _, c := range causes {
		broken += r.Causes[c]
	}
	refusals := len(r.Refusals) > 0 && r.Causes[CauseTokenRefused] > 0
	rows := make([][]string, 0, len(causes))
	for _, c := range causes {
		row := []string{clean(string(c)), strconv.Itoa(r.Causes[c]), pct0(float64(r.Causes[c]) / float64(broken))}
		switch {
		case c == CauseTokenRefused && refusals:
			row = append(row, strings.ReplaceAll(clean(countList(r.Refusals)), ", ", "\n"))
		case refusals:
			row = append(row, "")
		}
		rows = append(rows, row)
	}
	b.WriteByte('\n')
	t := newTable(b, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignLeft)
	if refusals {
		t.Header("cause", "broken sessions", "share", "refused by the cookie jar")
	} else {
		t.Header("cause", "broken sessions", "share")
	}
	if err := appendRows(t, rows); err != nil {
		return err
	}
	writeLBLine(b, r)
	for _, c := range causes {
		hint := r.Hints[c]
		if hint == "" && slices.Contains(Causes, c) {
			hint = c.Hint()
		}
		if hint != "" {
			writeWrapped(b, "hint for "+string(c)+": "+hint, "", "  ")
		}
	}
	return nil
}

// countList is "2 domain, 1 secure-over-http": every key with its count,
// most frequent first.
func countList[K ~string, V int | int64](m map[K]V) string {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y K) int {
		return cmp.Or(cmp.Compare(m[y], m[x]), cmp.Compare(x, y))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

// expectSpread tells a run that expected no persistence (--token none).
func expectSpread(r *Report) bool { return r.Run.Token == "none" }

// Labeled is a report with a name, for side-by-side comparisons such as the
// lab's configs.
type Labeled struct {
	Name, Description string
	Report            *Report
	// ConfigLine is where `stickyprobe check-config` points in the
	// row's config ("haproxy.cfg:22-24 server-without-cookie"); a column
	// shows it when a row has one.
	ConfigLine string
}

// SideBySide renders one row per report: its verdict, stickiness, how many
// control sessions (which keep no cookie) changed backend, and the causes of
// breakage; then each report's description.
func SideBySide(w io.Writer, rows []Labeled) error {
	t := tablewriter.NewTable(w)
	header := []string{"config", "verdict", "stickiness", "control moved", "broken sessions by cause"}
	withLine := slices.ContainsFunc(rows, func(r Labeled) bool { return r.ConfigLine != "" })
	if withLine {
		header = append(header, "config check")
	}
	t.Header(header)
	for _, row := range rows {
		r := row.Report
		judged := r.Summary.Sticky + r.Summary.Broken
		stick := "-"
		if judged > 0 {
			stick = fmt.Sprintf("%.0f%% (%d/%d)", 100*r.Summary.Stickiness, r.Summary.Sticky, judged)
		}
		control := fmt.Sprintf("%d/%d", r.Control.Switched, r.Control.Judged)
		cells := []string{row.Name, strings.ToUpper(string(r.Verdict)), stick, control, causeList(r)}
		if withLine {
			cells = append(cells, orDash(clean(row.ConfigLine)))
		}
		if err := t.Append(cells); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	// Descriptions are sentences: as a legend they read better than as a
	// column that pushes the table past a terminal's width.
	for _, row := range rows {
		if row.Description != "" {
			if _, err := fmt.Fprintf(w, "  %-18s %s\n", row.Name, row.Description); err != nil {
				return err
			}
		}
	}
	return nil
}

// causeList is "20 no-token, 3 after-error", largest first.
func causeList(r *Report) string {
	type kv struct {
		c Cause
		n int
	}
	var list []kv
	for c, n := range r.Causes {
		list = append(list, kv{c, n})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return causeIndex(list[i].c) < causeIndex(list[j].c)
	})
	var parts []string
	for _, e := range list {
		s := fmt.Sprintf("%d %s", e.n, e.c)
		if e.c == CauseTokenRefused && len(r.Refusals) > 0 {
			var reasons []string
			for reason := range r.Refusals {
				reasons = append(reasons, string(reason))
			}
			sort.Strings(reasons)
			s += " (" + strings.Join(reasons, ", ") + ")"
		}
		parts = append(parts, s)
	}
	for _, reason := range r.Reasons {
		if strings.HasPrefix(reason, "spread: ") && r.Spread.MaxBackend != "" {
			parts = append(parts, fmt.Sprintf("spread: %s on %s", pct0(r.Spread.MaxShare), shorten(clean(r.Spread.MaxBackend), 16)))
			break
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
