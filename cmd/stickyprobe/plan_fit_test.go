package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/report"
)

// The monitor of the report that found the problem: 60 requests at 5/s
// every 2 s can never fit, and is refused before the first cycle.
func TestMonitorRefusesAPlanThatCannotFit(t *testing.T) {
	var stderr syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code := run(ctx, []string{"stickyprobe", "monitor", "--every", "2s", "--sessions", "12", "--requests", "4", "--cycles", "1", "--listen", "", "http://127.0.0.1:9/"}, io.Discard, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "--every 2s is too short for the plan") || !strings.Contains(stderr.String(), "--rate to at least 30") {
		t.Errorf("exit %d, want %d naming --every and --rate:\n%s", code, exitUsage, stderr.String())
	}
	var stderr2 syncBuffer
	code = run(ctx, []string{"stickyprobe", "monitor", "--every", "1m", "--max-duration", "3s", "--sessions", "12", "--requests", "4", "--cycles", "1", "--listen", "", "http://127.0.0.1:9/"}, io.Discard, &stderr2)
	if code != exitUsage || !strings.Contains(stderr2.String(), "--max-duration 3s is too short") {
		t.Errorf("exit %d, want %d naming --max-duration:\n%s", code, exitUsage, stderr2.String())
	}
}

// A run whose plan cannot fit --max-duration is warned before it starts,
// and cut: the requests in flight at the cut are no timeout, and the
// verdict says the run was cut rather than pointing at --id.
func TestRunCutAtMaxDuration(t *testing.T) {
	h := startLB(t, preset(t, "textbook"))
	res := probeRun(t, append([]string{"--max-duration", "1500ms", "--rate", "5", "--sessions", "12", "--requests", "4"}, hostArgs(h)...)...)
	rep := res.mustReport(t)
	if !strings.Contains(res.stderr, "warning: --max-duration 1.5s is too short for the plan") {
		t.Errorf("no warning before the run:\n%s", res.stderr)
	}
	if rep.Verdict != report.Error || !rep.Run.Truncated || rep.Summary.Errors != 0 || len(rep.Errors) != 0 {
		t.Fatalf("verdict %s, truncated %v, errors %d %v; want error, truncated, no errors", rep.Verdict, rep.Run.Truncated, rep.Summary.Errors, rep.Errors)
	}
	if r := strings.Join(rep.Reasons, " "); !strings.Contains(r, "the run was cut") || strings.Contains(r, "set --id") {
		t.Errorf("reasons %q, want the cut named, not --id", rep.Reasons)
	}
}
