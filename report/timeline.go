package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/stickyprobe/stickyprobe/probe"
)

// firstSample is the sample a renderer shows for cause c, and how many
// more of that cause the JSON report holds.
func firstSample(r *Report, c Cause) (first *Sample, more int) {
	for _, sm := range r.Samples {
		if sm == nil || sm.Cause != c {
			continue
		}
		if first == nil {
			first = sm
		} else {
			more++
		}
	}
	return first, more
}

// writeTimelines shows the first sample of each cause.
func writeTimelines(b *bytes.Buffer, r *Report) {
	if expectSpread(r) {
		return
	}
	for _, c := range causeOrder(r) {
		first, more := firstSample(r, c)
		if first != nil {
			b.WriteByte('\n')
			writeSample(b, first, more)
		}
	}
}

func writeSample(b *bytes.Buffer, sm *Sample, more int) {
	cause := string(sm.Cause)
	if sm.Refusal != "" {
		cause += ": " + string(sm.Refusal)
	}
	writeWrapped(b, fmt.Sprintf("session %s (%s), pinned to %s", sampleName(sm), cause, shorten(orDash(sm.Pin), maxCell)), "", "  ")
	rows := make([][]string, len(sm.Steps))
	prev := "" // the backend of the last identified step
	for i, st := range sm.Steps {
		var flags []string
		if st.TokenDeleted {
			flags = append(flags, "deleted")
		}
		if st.TokenRefused != "" {
			flags = append(flags, "refused:"+string(st.TokenRefused))
		}
		if st.Burst {
			flags = append(flags, "burst")
		}
		mark := ""
		if st.Switch && st.Backend != prev {
			mark = "<- switch"
		}
		if st.AfterAction != "" {
			mark = strings.TrimSpace("after " + clean(shorten(st.AfterAction, 20)) + " " + mark)
		}
		if st.Backend != "" {
			prev = st.Backend
		}
		rows[i] = []string{
			"#" + strconv.Itoa(st.Seq), shorten(clean(orDash(st.Backend)), maxCell), clean(statusText(st)),
			"sent=" + tokenValue(st.TokenSent), "set=" + tokenValue(st.TokenSet),
			clean(strings.Join(flags, " ")), msText(st.LatencyMS), mark,
		}
		if st.Frontend != "" {
			rows[i] = append(rows[i][:6], "via "+frontLabel(st.Frontend), msText(st.LatencyMS), mark)
		}
	}
	right := 6 // the latency
	if len(rows) > 0 && len(rows[0]) > 8 {
		right = 7
	}
	lines := alignColumns(rows, right)
	for i, line := range lines {
		if i > 0 && sm.Steps[i].Seq > sm.Steps[i-1].Seq+1 {
			b.WriteString("  …\n")
		}
		b.WriteString("  " + line + "\n")
	}
	switch {
	case more == 1:
		writeWrapped(b, fmt.Sprintf("(1 more %s session sampled in the JSON report)", sm.Cause), "  ", "  ")
	case more > 1:
		writeWrapped(b, fmt.Sprintf("(%d more %s sessions sampled in the JSON report)", more, sm.Cause), "  ", "  ")
	}
}

// sampleName is the session's id, prefixed by its events file in a merged
// report ("eu.jsonl:12").
func sampleName(sm *Sample) string {
	if sm.Source != "" {
		return shorten(clean(sm.Source), maxCell) + ":" + strconv.Itoa(sm.Session)
	}
	return strconv.Itoa(sm.Session)
}

func statusText(st Step) string {
	var parts []string
	if st.Status != 0 {
		parts = append(parts, strconv.Itoa(st.Status))
	}
	if st.Error != "" && !(st.Error == probe.ErrHTTP5xx && st.Status >= 500) {
		parts = append(parts, string(st.Error))
	}
	return orDash(strings.Join(parts, " "))
}

// tokenValue shortens a long token value; the JSON report has it whole.
func tokenValue(v string) string { return shorten(clean(orDash(v)), 16) }

// alignColumns pads each column to its widest cell, two spaces apart;
// column right is right-aligned, a column empty in every row is left out
// and trailing spaces are trimmed.
func alignColumns(rows [][]string, right int) []string {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	out := make([]string, len(rows))
	for n, row := range rows {
		var sb strings.Builder
		for i, cell := range row {
			if widths[i] == 0 {
				continue // empty in every row
			}
			if sb.Len() > 0 {
				sb.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i == right {
				sb.WriteString(pad + cell)
			} else {
				sb.WriteString(cell + pad)
			}
		}
		out[n] = strings.TrimRight(sb.String(), " ")
	}
	return out
}

// frontLabel is a frontend as a timeline shows it: without its scheme and
// trailing slash, shortened.
func frontLabel(f string) string {
	if _, rest, ok := strings.Cut(f, "://"); ok {
		f = rest
	}
	if host, via, ok := strings.Cut(f, " via "); ok {
		f = strings.TrimSuffix(host, "/") + " via " + via
	} else {
		f = strings.TrimSuffix(f, "/")
	}
	return shorten(clean(f), 32)
}
