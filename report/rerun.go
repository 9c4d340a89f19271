package report

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stickyprobe/stickyprobe/redact"
)

// writeRerun prints how to repeat the run: its command line (seed
// included, secrets redacted) and, for a merged report, each vantage's.
func writeRerun(b *bytes.Buffer, r *Report) {
	if r.Run.Command != "" {
		writeCommand(b, "rerun: ", r.Run.Command)
		if strings.Contains(r.Run.Command, redact.Prefix) {
			writeWrapped(b, "(secret values in it are redacted: put the real ones back to rerun)", "       ", "       ")
		}
	}
	if len(r.Run.Vantages) == 0 {
		return
	}
	writeWrapped(b, fmt.Sprintf("merged from %d runs (session ids are per file: FILE:ID):", len(r.Run.Vantages)), "", "  ")
	for _, v := range r.Run.Vantages {
		line := fmt.Sprintf("%s: %d sessions (+%d control), seed %d, %s", v.Source, v.Sessions, v.Control, v.Seed, orDash(strings.Join(v.Targets, ", ")))
		if !v.Started.IsZero() {
			line += " at " + v.Started.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		if v.DurationS > 0 {
			line += " for " + time.Duration(v.DurationS*float64(time.Second)).Round(100*time.Millisecond).String()
		}
		if v.Interrupted {
			line += " (interrupted)"
		}
		writeWrapped(b, line, "  ", "    ")
		if v.Command != "" {
			writeCommand(b, "    rerun: ", v.Command)
		}
	}
}

// writeCommand writes a shell command wrapped at tableWidth with line
// continuations, breaking only between words, so it pastes into a shell
// as is. cmd is quoted with single quotes (see shellWords).
func writeCommand(b *bytes.Buffer, prefix, cmd string) {
	line := prefix
	indent := strings.Repeat(" ", utf8.RuneCountInString(prefix)+2)
	for i, w := range shellWords(clean(cmd)) {
		switch {
		case i == 0:
			line += w
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w)+2 > tableWidth:
			b.WriteString(line + " \\\n")
			line = indent + w
		default:
			line += " " + w
		}
	}
	b.WriteString(line + "\n")
}

// shellWords splits a command line into its words, keeping quoted parts
// (single quotes; a backslash outside quotes escapes one character)
// inside their word.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inQuote, escaped, any := false, false, false
	for _, c := range s {
		switch {
		case escaped:
			escaped = false
		case inQuote:
			inQuote = c != '\''
		case c == '\\':
			escaped = true
		case c == '\'':
			inQuote = true
		case c == ' ':
			if any {
				words = append(words, cur.String())
				cur.Reset()
				any = false
			}
			continue
		}
		cur.WriteRune(c)
		any = true
	}
	if any {
		words = append(words, cur.String())
	}
	return words
}
