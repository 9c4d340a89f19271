package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
)

// killAtFraction probes cfg as a user trying a failover drill would (15
// sessions × 12 requests, --think 400ms) and stops server1 once frac of
// the run's requests were answered, so "late in the run" does not depend
// on how fast the machine is.
func killAtFraction(t *testing.T, cfg lab.HAProxyConfig, frac float64, args ...string) probeResult {
	t.Helper()
	l := startLab(t, cfg)
	const total = (15 + 3) * 12 // measured and control sessions × requests
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			var n int64
			for _, name := range []string{"server1", "server2", "server3"} {
				n += l.Backend(name).Requests()
			}
			if float64(n) >= frac*total {
				l.Backend("server1").Stop()
				return
			}
		}
	}()
	res := probeRun(t, append(append([]string{"--sessions", "15", "--requests", "12", "--control", "3", "--think", "400ms"}, args...),
		hostArgs(l.LB.(*lab.HAProxy))...)...)
	close(stop)
	<-done
	return res
}

// rejudgeStrict runs `stickyprobe report --on-backend-loss strict` on the
// run's events.
func rejudgeStrict(t *testing.T, res probeResult) (int, *report.Report) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, []string{"stickyprobe", "report", "--format", "json", "--on-backend-loss", "strict", res.eventsPath}, &stdout, &stderr)
	var rep report.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report --format json: %v (exit %d)\n%s", err, code, stderr.String())
	}
	return code, &rep
}

// A backend killed at any point of a run of normal length is a loss, and
// HAProxy's failover is what failover-stay expects; judged strict, the
// same moves are breakage.
func TestBackendLossAnyTimeAgainstHAProxy(t *testing.T) {
	redispatch := preset(t, "redispatch")
	textbook := preset(t, "textbook") // no option redispatch: 503s until the check marks server1 down
	for _, tc := range []struct {
		name string
		cfg  lab.HAProxyConfig
		frac float64
	}{
		{"redispatch, kill at 50%", redispatch, 0.5},
		{"redispatch, kill at 90%", redispatch, 0.9},
		{"no redispatch, kill at 50%", textbook, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := killAtFraction(t, tc.cfg, tc.frac, "--on-backend-loss", "failover-stay", "--max-error-rate", "1")
			rep := res.mustReport(t)
			if res.code != exitPass || rep.Summary.Broken != 0 || rep.Summary.Moved == 0 {
				t.Fatalf("failover-stay: exit %d, broken %d (%v), moved %d; want a pass with server1's sessions moved (reasons %q)",
					res.code, rep.Summary.Broken, rep.Causes, rep.Summary.Moved, rep.Reasons)
			}
			var lost *report.LostBackend
			for i, l := range rep.BackendLoss.Lost {
				if l.Backend == "server1" {
					lost = &rep.BackendLoss.Lost[i]
				}
			}
			if lost == nil || len(lost.Evidence) == 0 || lost.RecognizedAfterS <= 0 || lost.RecognizedAfterS > 6 {
				t.Fatalf("lost %+v: want server1, with evidence, recognised within seconds", rep.BackendLoss.Lost)
			}
			t.Logf("server1 lost at +%.1f s of %.1f s, recognised %.2f s later by %v; %d sessions moved",
				lost.From.Sub(rep.Run.Started).Seconds(), rep.Run.DurationS, lost.RecognizedAfterS, lost.Evidence, rep.Summary.Moved)

			code, strict := rejudgeStrict(t, res)
			if code != exitFail || strict.Verdict != report.Fail || strict.Summary.Broken != rep.Summary.Moved || len(strict.Rejudged) != 1 {
				t.Errorf("strict: exit %d, verdict %s, broken %d, rejudged %+v; want the %d moves as breakage and the changed threshold named",
					code, strict.Verdict, strict.Summary.Broken, strict.Rejudged, rep.Summary.Moved)
			}
		})
	}
}
