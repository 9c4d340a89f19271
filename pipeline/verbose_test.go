package pipeline

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

func TestVerboseLines(t *testing.T) {
	evs := []probe.Event{
		{Session: 4, Seq: 0, Frontend: "http://lb/", Status: 200, Backend: "web1", TokenName: "SERVERID", TokenSet: "web1", Latency: 1500 * time.Microsecond},
		{Session: 4, Seq: 1, Frontend: "http://lb/", Status: 200, Backend: "web\x1b[31m2", TokenName: "SERVERID", Latency: time.Millisecond,
			HTTP: &probe.Exchange{Method: "GET", URL: "http://lb/", Proto: "HTTP/1.1", StatusText: "OK",
				Request:  []probe.Header{{Name: "Cookie", Value: "SERVERID=web1"}},
				Response: []probe.Header{{Name: "X-Backend", Value: "web\x1b[31m2"}}}},
	}
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		vp := &verbosePrinter{w: &buf, headers: true, color: color}
		sum := report.NewSummary(report.Options{CookieToken: true})
		for i := range evs {
			sum.Add(&evs[i])
			vp.print(&evs[i], sum)
		}
		out := buf.String()
		if has := strings.Contains(out, "\x1b["); has != color {
			t.Errorf("color=%v: ANSI codes present: %v", color, has)
		}
		if strings.Contains(out, "\x1b[31m2") {
			t.Errorf("color=%v: a backend name's escape sequence reached the terminal", color)
		}
		out = ansi.ReplaceAllString(out, "")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 6 || !strings.HasPrefix(lines[0], "s4") || !strings.Contains(lines[0], "-→web1") {
			t.Errorf("color=%v: lines %q: want the first request, then the second with its headers", color, lines)
		}
		if !strings.Contains(lines[1], "← switch from web1 (no-token)") {
			t.Errorf("color=%v: %q: want the switch marked with its cause", color, lines[1])
		}
		if !strings.Contains(out, "> Cookie: SERVERID=web1") || !strings.Contains(out, "< HTTP/1.1 200 OK") {
			t.Errorf("color=%v: -vv headers missing:\n%s", color, out)
		}
	}
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)
