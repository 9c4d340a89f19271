package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/redact"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
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

func TestUseColor(t *testing.T) {
	if useColor(&bytes.Buffer{}) {
		t.Error("color into a buffer (a pipe or file)")
	}
	t.Setenv("NO_COLOR", "1")
	if useColor(os.Stderr) {
		t.Error("color with NO_COLOR set")
	}
}

func TestShellQuoteAndHeaderRedaction(t *testing.T) {
	for in, want := range map[string]string{
		"http://lb.example:8080/a?b=c": "'http://lb.example:8080/a?b=c'",
		"--sessions":                   "--sessions",
		"it's":                         `'it'\''s'`,
		"Authorization: Bearer x":      "'Authorization: Bearer x'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
	rd := redact.NewWithKey([]byte("k"))
	spec := scenarios.Default()
	spec.Token = scenarios.Token{Kind: scenarios.TokenCookie, Name: "SERVERID"}
	if got := redactHeaderArg("Authorization: Bearer tok-s3cr3t", spec, rd); got != "Authorization: Bearer "+rd.Value("tok-s3cr3t") {
		t.Errorf("Authorization: %q", got)
	}
	if got := redactHeaderArg("Cookie: SERVERID=s1; sid=abc", spec, rd); got != "Cookie: SERVERID=s1; sid="+rd.Value("abc") {
		t.Errorf("Cookie: %q, want the token kept and the session cookie redacted", got)
	}
	if got := redactHeaderArg("X-Trace: 42", spec, rd); got != "X-Trace: 42" {
		t.Errorf("plain header: %q", got)
	}
}
