package haplog

import (
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

func TestJoin(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	rep := &report.Report{Samples: []*report.Sample{
		{Session: 1, Cause: report.CauseTokenIgnored, Pin: "s1", Steps: []report.Step{{Seq: 0, Backend: "s1"}, {Seq: 1, Backend: "s2", Switch: true}}},
		{Session: 2, Cause: report.CauseTokenReassigned, Pin: "s2", Steps: []report.Step{{Seq: 3, Backend: "s3", Switch: true}}},
		{Session: 3, Cause: report.CauseAfterError, Pin: "s1", Steps: []report.Step{{Seq: 2, Backend: "s3", Switch: true}}},
	}}
	events := []probe.Event{
		{Session: 1, Seq: 1, Local: "[::1]:4001", Start: t0, Latency: time.Millisecond},
		{Session: 2, Seq: 3, Local: "127.0.0.1:4002", Start: t0.Add(time.Second), Latency: time.Millisecond},
		{Session: 3, Seq: 2, Local: "127.0.0.1:4003", Start: t0, Latency: time.Millisecond},
	}
	j, err := NewJoin(rep, func(fn func(*probe.Event) error) error {
		for i := range events {
			if err := fn(&events[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Session 1 by address (IPv6 as HAProxy writes it), the nearer of two
	// lines; session 2 by its mark; session 3's line is 5 s off: not it.
	for _, r := range []*Record{
		{Client: "::1:4001", Time: t0.Add(800 * time.Millisecond), Backend: "be", Server: "s9", Term: "--VN", Status: 200},
		{Client: "::1:4001", Time: t0.Add(2 * time.Millisecond), Backend: "be", Server: "s2", Term: "--II", Status: 200},
		{Client: "10.9.9.9:1", Time: t0.Add(time.Second), Captured: "abc/2/3", Host: "lb2", Backend: "be", Server: "s3", Term: "--DI", Status: 200},
		{Client: "127.0.0.1:4003", Time: t0.Add(5 * time.Second), Backend: "be", Server: "s3", Term: "--VN", Status: 200},
	} {
		j.Add(r)
	}
	sw := j.Switches()
	if len(sw) != 3 || !sw[0].Found || sw[0].By != "address" || sw[0].Line.Server != "s2" ||
		!sw[1].Found || sw[1].By != "mark" || sw[1].Line.Host != "lb2" || sw[2].Found {
		t.Fatalf("%+v %+v %+v", sw[0], sw[1], sw[2])
	}
	var b strings.Builder
	if err := j.Write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"(2 of 3 found in the log)", "client cookie I (invalid)", "on node lb2", "client cookie D (server down)",
		"no log line for 127.0.0.1:4003"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Count(out, "confirms the report") != 2 {
		t.Errorf("want 2 confirmations:\n%s", out)
	}
}

func TestAgreement(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cause report.Cause
		term  string
		redis bool
		want  string
	}{
		{report.CauseTokenIgnored, "--II", false, "confirms"},
		{report.CauseTokenIgnored, "--DI", false, "contradicts"},
		{report.CauseTokenReassigned, "--EI", false, "confirms"},
		{report.CauseAfterError, "--VN", true, "confirms"},
		{report.CauseUnexplained, "--VN", false, "contradicts"},
		{report.CauseUnexplained, "--NI", false, ""},
	} {
		if got := Agreement(tt.cause, &Record{Term: tt.term, Redispatched: tt.redis}); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.cause, tt.term, got, tt.want)
		}
	}
}
