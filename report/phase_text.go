package report

import (
	"bytes"
	"strconv"
)

// writePhases lists a scenario's phases: what each did and how many
// sessions first broke in it, so a break right after a restart shows at a
// glance. Plain runs have no phases and print nothing.
func writePhases(b *bytes.Buffer, r *Report) {
	if len(r.Phases) == 0 {
		return
	}
	rows := [][]string{{"PHASE", "KIND", "REQUESTS", "ERRORS", "BROKE HERE", "NOTE"}}
	for _, ph := range r.Phases {
		requests, errs, broken := "-", "-", "-"
		if ph.Kind == "requests" {
			requests = strconv.FormatInt(ph.Requests, 10)
			errs = strconv.FormatInt(ph.Errors, 10)
			broken = strconv.Itoa(ph.Broken)
		}
		rows = append(rows, []string{
			shorten(clean(ph.Name), maxCell), clean(ph.Kind), requests, errs, broken,
			shorten(clean(phaseNote(ph)), 60),
		})
	}
	b.WriteByte('\n')
	for _, line := range alignColumns(rows, -1) {
		b.WriteString(line + "\n")
	}
	for _, ph := range r.Phases {
		if a := ph.Action; a != nil && a.Failed && a.Output != "" {
			writeWrapped(b, "output of phase "+ph.Name+" (last lines):", "", "  ")
			for _, line := range bytes.Split([]byte(lastLines(a.Output, 6)), []byte("\n")) {
				b.WriteString("  | " + shorten(clean(string(line)), tableWidth-4) + "\n")
			}
		}
	}
}

// lastLines keeps the last n lines of s, without a trailing newline.
func lastLines(s string, n int) string {
	s = string(bytes.TrimRight([]byte(s), "\n"))
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			if n--; n == 0 {
				return s[i+1:]
			}
		}
	}
	return s
}
