package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/probe"
)

func TestPercent(t *testing.T) {
	tests := []struct {
		f         float64
		one, zero string
	}{
		{0, "0.0%", "0%"},
		{1, "100.0%", "100%"},
		{0.5, "50.0%", "50%"},
		{1999.0 / 2000, "99.9%", "99%"},
		{0.99999, "99.9%", "99%"},
		{1.0 / 3000, "<0.1%", "<1%"},
		{0.004, "0.4%", "<1%"},
		{0.996, "99.6%", "99%"},
	}
	for _, tt := range tests {
		if got := pct(tt.f); got != tt.one {
			t.Errorf("pct(%v) = %s, want %s", tt.f, got, tt.one)
		}
		if got := pct0(tt.f); got != tt.zero {
			t.Errorf("pct0(%v) = %s, want %s", tt.f, got, tt.zero)
		}
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"server1", "server1"},
		{"srv-ü", "srv-ü"},
		{"\x1b[31mred\x1b[0m", "?[31mred?[0m"},
		{"a\nb\tc\u0085", "a?b?c?"},
		{"bad\xffutf8", "bad?utf8"},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAlignColumns(t *testing.T) {
	got := alignColumns([][]string{
		{"#0", "a", "", "1.0 ms"},
		{"#10", "bbb", "", "12.5 ms"},
	}, 3)
	want := []string{"#0   a     1.0 ms", "#10  bbb  12.5 ms"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTableHostileBackendNames: names come from the servers under test;
// thousands of them, long ones and ones with escape sequences must not
// flood or recolor the operator's terminal.
func TestTableHostileBackendNames(t *testing.T) {
	long := strings.Repeat("x", 300)
	evil := "\x1b[2J\x1b[31mevil"
	moved := kept("b\x07ell")
	moved.TokenSent = evil
	s := feed(NewSummary(testOptions()),
		script{id: 1, steps: []probe.Event{landed(evil), kept(evil), moved}},
		sticky(2, long, 4),
	)
	for i := range maxInterned + 10 {
		evs := []probe.Event{landed(fmt.Sprintf("req-%05d", i)), kept(fmt.Sprintf("req-%05d", i))}
		for seq := range evs {
			evs[seq].Session, evs[seq].Seq = 10+i, seq
			s.Add(&evs[seq])
		}
	}
	r := s.Close(testRun())
	var buf bytes.Buffer
	if err := Table(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("the table passes control characters through:\n%q", out)
	}
	if strings.Contains(out, long) || !strings.Contains(out, long[:30]) {
		t.Errorf("a 300-character backend name is printed whole, or not at all")
	}
	if !strings.Contains(out, "session 1 (token-ignored), pinned to ?[2J?[31mevil") {
		t.Errorf("the timeline of the broken session is missing:\n%s", out)
	}
	if !strings.Contains(out, "more backends") {
		t.Errorf("no line says that backends were left out:\n%s", out)
	}
	if n := strings.Count(out, "\n"); n > 80 {
		t.Errorf("%d lines for %d backends, want the backends table bounded:\n%s", n, len(r.Backends), out)
	}
	for i, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > tableWidth {
			t.Errorf("line %d is %d columns wide:\n%s", i+1, n, line)
		}
	}
}
