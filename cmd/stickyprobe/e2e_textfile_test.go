package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stickyprobe/stickyprobe/report"
)

// TestMonitorSIGTERMMidCycle stops the real binary in the middle of a
// cycle while another process keeps reading its textfile, as
// node_exporter would.
func TestMonitorSIGTERMMidCycle(t *testing.T) {
	h := startLB(t, preset(t, "textbook"))
	dir := t.TempDir()
	path := filepath.Join(dir, "stickyprobe.prom")
	// 52 requests at 20/s: cycles of 2.6 s starting every 3 s. The first
	// file appears at about 2.6 s; a signal 1.5 s later lands in the middle
	// of the second cycle (3 s to 5.6 s).
	cmd := exec.Command(binary(t), append([]string{"monitor", "--every", "3s", "--jitter", "0", "--rate", "20",
		"--sessions", "10", "--requests", "4", "--listen", "", "--prom-textfile", path}, hostArgs(h)...)...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })

	// The reader parses every version of the file it sees.
	stopReading := make(chan struct{})
	var reads, bad int
	var firstBad string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stopReading:
				return
			case <-time.After(2 * time.Millisecond):
			}
			data, err := os.ReadFile(path)
			if err != nil {
				continue // not written yet
			}
			reads++
			p := expfmt.NewTextParser(model.UTF8Validation)
			fams, err := p.TextToMetricFamilies(bytes.NewReader(data))
			if err == nil && fams["stickyprobe_cycles_total"] == nil {
				err = errors.New("no stickyprobe_cycles_total")
			}
			if err != nil && bad == 0 {
				firstBad = err.Error()
			}
			if err != nil {
				bad++
			}
		}
	}()

	// Wait for the first cycle's file, then signal inside the second cycle.
	eventually(t, 20*time.Second, "the first textfile", func() (bool, string) {
		_, err := os.Stat(path)
		return err == nil, stderr.String()
	})
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want 0\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10s after SIGTERM\n%s", stderr.String())
	}
	close(stopReading)
	wg.Wait()

	log := stderr.String()
	if !strings.Contains(log, "cycle interrupted") {
		t.Errorf("the signal did not land mid-cycle (no \"cycle interrupted\" line); the test proved less than it should:\n%s", log)
	}
	if !strings.Contains(log, "msg=stopped") {
		t.Errorf("no stop line:\n%s", log)
	}
	if bad > 0 {
		t.Errorf("%d of %d reads saw an incomplete textfile, first: %s", bad, reads, firstBad)
	}
	t.Logf("%d reads of the textfile while the monitor ran and stopped, all complete", reads)
	fams := readTextfile(t, path)
	if got := fams.get(t, "stickyprobe_cycles_total", "verdict=pass"); got < 1 {
		t.Errorf("final textfile: cycles_total{pass} = %v, want the first cycle's pass\n%s", got, log)
	}
	// Flushed on the way out: the cut cycle's requests are counted.
	judged := fams.get(t, "stickyprobe_cycles_total") * 52
	if got := fams.get(t, "stickyprobe_requests_total"); got <= judged {
		t.Errorf("requests_total %v, want more than the %v of the judged cycles: the cut cycle was not flushed", got, judged)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func TestRunPromTextfile(t *testing.T) {
	textbook := startLB(t, preset(t, "textbook"))
	broken := startLB(t, preset(t, "no-cookie"))
	for _, tt := range []struct {
		name    string
		h       []string
		verdict report.Verdict
	}{
		{"textbook", hostArgs(textbook), report.Pass},
		{"no-cookie", hostArgs(broken), report.Fail},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "smoke.prom")
			res := probeRun(t, append([]string{"--sessions", "12", "--requests", "4", "--prom-textfile", path, "--scenario-label", "smoke"}, tt.h...)...)
			rep := res.mustReport(t)
			if rep.Verdict != tt.verdict {
				t.Fatalf("verdict %s, want %s", rep.Verdict, tt.verdict)
			}
			f := readTextfile(t, path)
			checks := []struct {
				name   string
				labels []string
				want   float64
			}{
				{"stickyprobe_requests_total", []string{"scenario=smoke"}, float64(rep.Summary.Requests)},
				{"stickyprobe_sessions_total", []string{"result=broken"}, float64(rep.Summary.Broken)},
				{"stickyprobe_sessions_total", []string{"result=sticky"}, float64(rep.Summary.Sticky)},
				{"stickyprobe_broken_sessions_total", []string{"cause=no-token"}, float64(rep.Causes[report.CauseNoToken])},
				{"stickyprobe_stickiness_ratio", nil, rep.Summary.Stickiness},
				{"stickyprobe_verdict", []string{"verdict=" + string(tt.verdict)}, 1},
				{"stickyprobe_cycles_total", []string{"verdict=" + string(tt.verdict)}, 1},
				{"stickyprobe_request_duration_seconds", nil, float64(rep.Summary.Requests - rep.Summary.Errors)},
			}
			for _, c := range checks {
				if got := f.get(t, c.name, c.labels...); got != c.want {
					t.Errorf("%s%v = %v, want %v (the JSON report's figure)", c.name, c.labels, got, c.want)
				}
			}
			if _, ok := f.sum("go_goroutines"); ok {
				t.Error("the textfile holds go_* series; node_exporter rejects duplicates of its own")
			}
		})
	}
	t.Run("missing directory is a usage error", func(t *testing.T) {
		res := probeRun(t, append([]string{"--prom-textfile", "/nonexistent/dir/x.prom"}, hostArgs(textbook)...)...)
		if res.code != exitUsage || !strings.Contains(res.stderr, "--prom-textfile") {
			t.Errorf("exit %d, stderr %q; want 2 naming --prom-textfile", res.code, res.stderr)
		}
	})
}
