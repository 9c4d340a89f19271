package report

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The parts of the table and Markdown reports about the topology: the
// spread over backends, the node × backend matrix of several frontends,
// and backends that went away.

// maxMatrixBackends bounds the backend columns of the node × backend
// matrix; the busiest are shown, the rest summed as "other".
const maxMatrixBackends = 6

// maxMovesShown bounds the moves the text reports list; the JSON report
// has up to maxMoveSamples.
const maxMovesShown = 4

// topologySettings is ", frontends rotate, burst 6, ..." for the run's
// topology settings that are set.
func topologySettings(run Run) string {
	var parts []string
	if run.Frontends != "" {
		parts = append(parts, "frontends "+run.Frontends)
	}
	if run.SourceIPs != "" {
		parts = append(parts, "source "+run.SourceIPs)
		if run.SourceMoveAfter > 0 {
			parts = append(parts, fmt.Sprintf("moved after %d", run.SourceMoveAfter))
		}
	}
	if run.Burst > 1 {
		parts = append(parts, fmt.Sprintf("burst %d", run.Burst))
	}
	if run.HTTP2 {
		parts = append(parts, "http2")
	}
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, ", ")
}

// spreadLine says how the sessions spread; "" when there is nothing to say
// (one backend answered, or none).
func spreadLine(r *Report) string {
	sp := r.Spread
	if sp.Answering < 2 || sp.MaxBackend == "" {
		return ""
	}
	what := "sessions pinned"
	if expectSpread(r) {
		what = "requests"
	}
	return fmt.Sprintf("spread: %s to %d of %d backends, the most to %s (%s): imbalance %.2f (1 is even)",
		what, sp.Backends, sp.Answering, clean(shorten(sp.MaxBackend, maxCell)), pct(sp.MaxShare), sp.Imbalance)
}

// matrix is the node × backend matrix as rows of text: frontend,
// requests, off-pin, then one column per backend. nil with one frontend.
func matrix(r *Report) (header []string, rows [][]string) {
	if len(r.Frontends) < 2 {
		return nil, nil
	}
	totals := map[string]int64{}
	for _, f := range r.Frontends {
		for b, n := range f.Backends {
			totals[b] += n
		}
	}
	backs := sortedKeys(totals)
	sort.SliceStable(backs, func(i, j int) bool { return totals[backs[i]] > totals[backs[j]] })
	other := len(backs) > maxMatrixBackends
	if other {
		backs = backs[:maxMatrixBackends-1]
	}
	sort.Strings(backs)
	header = []string{"frontend", "requests", "moves"}
	for _, b := range backs {
		header = append(header, shorten(clean(b), 16))
	}
	if other {
		header = append(header, "other")
	}
	for _, name := range sortedKeys(r.Frontends) {
		f := r.Frontends[name]
		row := []string{shorten(clean(name), maxCell), strconv.FormatInt(f.Requests, 10), strconv.FormatInt(f.Moves, 10)}
		var shown int64
		for _, b := range backs {
			row = append(row, strconv.FormatInt(f.Backends[b], 10))
			shown += f.Backends[b]
		}
		if other {
			var all int64
			for _, n := range f.Backends {
				all += n
			}
			row = append(row, strconv.FormatInt(all-shown, 10))
		}
		rows = append(rows, row)
	}
	return header, rows
}

const matrixNote = "moves: responses from this node that moved a session to another backend; a node that does not honour the tokens the others handed out has many"

// lossLines describe the backends that went away and the moves the loss
// policy expected, relative to the run's start.
func lossLines(r *Report) []string {
	bl := r.BackendLoss
	if bl == nil {
		return nil
	}
	at := func(t time.Time) string { return offsetText(r.Run.Started, t) }
	lines := []string{fmt.Sprintf("backend loss (--on-backend-loss %s): %d session%s moved as expected, not counted as broken",
		bl.Policy, bl.Moved, plural(bl.Moved))}
	for _, l := range bl.Lost {
		line := fmt.Sprintf("  %s answered nobody from %s", clean(shorten(l.Backend, maxCell)), at(l.From))
		if l.To != nil {
			line += fmt.Sprintf(" to %s (%s)", at(*l.To), secondsText(l.Seconds))
		} else {
			line += fmt.Sprintf(" to the end of the run (%s)", secondsText(l.Seconds))
		}
		if l.Moved > 0 {
			line += fmt.Sprintf("; %d session%s moved off it", l.Moved, plural(l.Moved))
		}
		if ev := evidenceText(l); ev != "" {
			line += fmt.Sprintf("; gone by %s, %s after its last answer", ev, secondsText(l.RecognizedAfterS))
		}
		lines = append(lines, line)
	}
	if len(bl.Moves) > 0 {
		var parts []string
		for _, m := range bl.Moves[:min(len(bl.Moves), maxMovesShown)] {
			p := fmt.Sprintf("session %s %s → %s at %s", moveName(m), clean(m.From), clean(m.To), at(m.At))
			if m.Returned != nil {
				p += ", back at " + at(*m.Returned)
			}
			parts = append(parts, p)
		}
		more := ""
		if n := bl.Moved - min(len(bl.Moves), maxMovesShown); n > 0 {
			more = fmt.Sprintf("; %d more", n)
		}
		lines = append(lines, "  moved: "+strings.Join(parts, "; ")+more)
	}
	return lines
}

// evidenceText says how a loss was recognised, strongest evidence first.
func evidenceText(l LostBackend) string {
	var parts []string
	for _, e := range l.Evidence {
		switch e {
		case EvidenceLBState:
			parts = append(parts, "the LB's word (it marked the server down)")
		case EvidenceControl:
			parts = append(parts, fmt.Sprintf("the control group (%d unpinned responses went elsewhere; %d in a row miss a live one with probability < 0.1%%)", l.Missed, l.MissedNeeded))
		case EvidenceDeparture:
			parts = append(parts, "its sessions' departure (they left it at once, the others stayed)")
		case EvidenceSlowMove:
			parts = append(parts, "a slow move (the LB retried, then redispatched)")
		case EvidenceAfterError:
			parts = append(parts, "a move after failed requests")
		}
	}
	return strings.Join(parts, ", ")
}

func moveName(m Move) string {
	if m.Source != "" {
		return shorten(clean(m.Source), maxCell) + ":" + strconv.Itoa(m.Session)
	}
	return strconv.Itoa(m.Session)
}

// offsetText is t as seconds into the run ("+3.2 s"), or a clock time
// when the run's start is not known.
func offsetText(start, t time.Time) string {
	if start.IsZero() {
		return t.UTC().Format("15:04:05.000")
	}
	return fmt.Sprintf("+%.1f s", t.Sub(start).Seconds())
}

// writeTopology writes the spread line, the matrix and the backend-loss
// lines of the table report.
func writeTopology(b *bytes.Buffer, r *Report) error {
	if line := spreadLine(r); line != "" {
		writeWrapped(b, line, "", "  ")
	}
	if header, rows := matrix(r); header != nil {
		b.WriteByte('\n')
		if err := renderRows(b, header, rows); err != nil {
			return err
		}
		writeWrapped(b, matrixNote, "", "  ")
	}
	if lines := lossLines(r); lines != nil {
		b.WriteByte('\n')
		for _, l := range lines {
			if rest, ok := strings.CutPrefix(l, "  "); ok {
				writeWrapped(b, rest, "  ", "    ")
			} else {
				writeWrapped(b, l, "", "  ")
			}
		}
	}
	return nil
}

// mdTopology is writeTopology in Markdown.
func mdTopology(b *bytes.Buffer, r *Report) {
	if line := spreadLine(r); line != "" {
		fmt.Fprintf(b, "\n%s.\n", md(upperFirst(line)))
	}
	if header, rows := matrix(r); header != nil {
		b.WriteString("\n### LB nodes × backends\n\n|")
		for _, h := range header {
			b.WriteString(" " + md(h) + " |")
		}
		b.WriteString("\n|---|" + strings.Repeat("---:|", len(header)-1) + "\n")
		for _, row := range rows {
			b.WriteString("|")
			for _, c := range row {
				b.WriteString(" " + md(c) + " |")
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "\n%s.\n", md(upperFirst(matrixNote)))
	}
	if lines := lossLines(r); lines != nil {
		b.WriteString("\n### Backend loss\n\n")
		for i, l := range lines {
			if i == 0 {
				fmt.Fprintf(b, "%s.\n\n", md(upperFirst(l)))
				continue
			}
			fmt.Fprintf(b, "- %s\n", md(strings.TrimSpace(l)))
		}
	}
}
