package pipeline

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// verbosePrinter writes -v: one line per request as it happens, and with
// -vv the request and response headers (redacted by the probe). It marks a
// switch off the session's pin the moment it happens.
type verbosePrinter struct {
	w       io.Writer
	headers bool // -vv
	color   bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

func (p *verbosePrinter) paint(code, s string) string {
	if !p.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

// verboseSink is -v as a sink: it comes after the summary, so the summary
// has taken each event and knows the session's pin.
type verboseSink struct {
	p *verbosePrinter
	s *report.Summary
}

func (v verboseSink) Add(ev *probe.Event) { v.p.print(ev, v.s) }
func (v verboseSink) Close(*Result) error { return nil }

// print writes the line of ev; s has already taken ev, so it knows the
// session's pin.
func (p *verbosePrinter) print(ev *probe.Event, s *report.Summary) {
	who := fmt.Sprintf("s%d", ev.Session)
	if ev.Control {
		who = fmt.Sprintf("c%d", ev.Session)
	}
	status := fmt.Sprint(ev.Status)
	if ev.Error != "" && ev.Error != probe.ErrHTTP5xx {
		status = string(ev.Error)
	}
	statusColor := ansiGreen
	switch {
	case ev.Failed():
		statusColor = ansiRed
	case ev.Status >= 400:
		statusColor = ansiYellow
	}
	backend := sanitize(ev.Backend)
	if backend == "" {
		backend = "?"
	}
	token := sanitize(OrDash(ev.TokenSent)) + "→" + sanitize(OrDash(ev.TokenSet))
	switch {
	case ev.TokenDeleted:
		token += " deleted"
	case ev.TokenRefused != "":
		token += " refused:" + string(ev.TokenRefused)
	}
	var tail []string
	if ev.Reused {
		tail = append(tail, "reused")
	}
	v := s.Session(ev.Session)
	if ev.Backend != "" && v.Pin != "" && ev.Backend != v.Pin {
		mark := "← switch from " + sanitize(v.Pin)
		if v.Cause != "" && !v.Control {
			mark += " (" + string(v.Cause) + ")"
		}
		tail = append(tail, p.paint(ansiBold+ansiRed, mark))
	}
	line := fmt.Sprintf("%-6s #%-3d %s %-12s %-24s %8.2f ms  %s", who, ev.Seq,
		p.paint(statusColor, fmt.Sprintf("%-8s", status)), backend, token,
		float64(ev.Latency.Microseconds())/1000, sanitize(ev.Frontend))
	if ev.Control {
		line = p.paint(ansiDim, line)
	}
	if len(tail) > 0 {
		line += "  " + strings.Join(tail, " ")
	}
	fmt.Fprintln(p.w, line)
	if p.headers && ev.HTTP != nil {
		p.printHeaders(ev)
	}
}

// printHeaders is -vv: curl's notation, > for what was sent and < for
// what came back.
func (p *verbosePrinter) printHeaders(ev *probe.Event) {
	x := ev.HTTP
	var b strings.Builder
	fmt.Fprintf(&b, "    %s %s %s\n", p.paint(ansiCyan, ">"), sanitize(x.Method), sanitize(x.URL))
	for _, h := range x.Request {
		fmt.Fprintf(&b, "    %s %s: %s\n", p.paint(ansiCyan, ">"), sanitize(h.Name), sanitize(h.Value))
	}
	if ev.Status != 0 {
		fmt.Fprintf(&b, "    %s %s %d %s\n", p.paint(ansiCyan, "<"), sanitize(x.Proto), ev.Status, sanitize(x.StatusText))
		for _, h := range x.Response {
			fmt.Fprintf(&b, "    %s %s: %s\n", p.paint(ansiCyan, "<"), sanitize(h.Name), sanitize(h.Value))
		}
	} else if ev.Detail != "" {
		fmt.Fprintf(&b, "    %s %s\n", p.paint(ansiCyan, "<"), p.paint(ansiRed, "no response: "+sanitize(ev.Detail)))
	}
	io.WriteString(p.w, b.String())
}

// sanitize replaces control characters: a backend name or header a server
// chose must not move the cursor or color an operator's terminal.
func sanitize(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// OrDash is s, or "-" when it is empty.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
