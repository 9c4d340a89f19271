package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stickyprobe/stickyprobe/redact"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

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
