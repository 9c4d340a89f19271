package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/report"
)

// A port out of range is a usage error, not a run of failed requests.
func TestPortOutOfRangeIsUsage(t *testing.T) {
	code, _, stderr := runCLI(t, "run", "http://127.0.0.1:99999/")
	if code != exitUsage || !strings.Contains(stderr, "port 99999: want 1-65535") {
		t.Errorf("exit %d, stderr %q; want 2 naming the port", code, stderr)
	}
}

// An LB that answers nothing but 503 is as unreachable as one refusing
// connections: the run stops after the first 20 requests.
func TestFiveHundredsOnlyStopsEarly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var served atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served.Add(1)
		http.Error(w, "no server is available", http.StatusServiceUnavailable)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	jsonPath := filepath.Join(t.TempDir(), "r.json")
	code, _, stderr := runCLI(t, "run", "--sessions", "20", "--requests", "10", "--concurrency", "2", "--rate", "0",
		"--json", jsonPath, "http://"+ln.Addr().String()+"/")
	if code != exitCannotRun || !strings.Contains(stderr, "the first 20 requests all failed (http-5xx: HTTP 503); stopping") {
		t.Errorf("exit %d, stderr %q; want 3 and the early stop", code, stderr)
	}
	// 220 requests planned (and 3 control sessions'); past the 20th, only
	// those sent before the stop was seen.
	if n := served.Load(); n < 20 || n > 100 {
		t.Errorf("%d requests served; want the run stopped soon after 20", n)
	}
}

// The first SIGTERM stops a command still opening its scenario file: a
// FIFO with no writer blocks open(2) until one comes.
func TestSignalWhileReadingAFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Release the blocked open, so no goroutine outlives the test.
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"stickyprobe", "scenario", "run", fifo, "http://127.0.0.1:1/"}, &stdout, &stderr)
	if code != exitInterrupted || time.Since(start) > 5*time.Second {
		t.Errorf("exit %d after %v, stderr %q; want 130 soon after the signal", code, time.Since(start), stderr.String())
	}
}

// `run --events - ... | head -1`: the closed pipe stops stdout with one
// message; the JSON report is still written and the exit code is the
// verdict's.
func TestBrokenStdoutPipe(t *testing.T) {
	h := startLB(t, preset(t, "textbook"))
	jsonPath := filepath.Join(t.TempDir(), "r.json")
	cmd := exec.Command(binary(t), "run", "--sessions", "50", "--requests", "20", "--rate", "0", "--events", "-", "--json", jsonPath, h.URL())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	stdout.Close() // as head -1 exits
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitPass {
		t.Fatalf("exit %d (%v), want the verdict's 0; stderr:\n%s", code, cmd.ProcessState, stderr.String())
	}
	if n := strings.Count(stderr.String(), "broken pipe"); n != 1 {
		t.Errorf("%d broken-pipe messages, want 1:\n%s", n, stderr.String())
	}
	data, err := os.ReadFile(jsonPath)
	var rep report.Report
	if err != nil || json.Unmarshal(data, &rep) != nil || rep.Verdict != report.Pass {
		t.Errorf("the JSON report: %v, verdict %q", err, rep.Verdict)
	}
}

// A second signal exits at once: it says which outputs it did not write,
// and leaves neither a temp file nor an empty HAR.
func TestForcedExitNamesUnwrittenOutputs(t *testing.T) {
	h := startLB(t, preset(t, "textbook"))
	dir := t.TempDir()
	har, events := filepath.Join(dir, "x.har"), filepath.Join(dir, "e.jsonl")
	cmd := exec.Command(binary(t), "run", "--sessions", "100", "--requests", "1000", "--rate", "200", "--max-duration", "10m",
		"--har", har, "--har-all", "--events", events, h.URL())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	// Two different signals: two of one kind sent together may merge.
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Process.Signal(syscall.SIGTERM)
	if !exitsWithin(cmd, 15*time.Second) {
		t.Fatal("still running 15 s after two signals")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit %d, want 130; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "forced exit: not written: ") || !strings.Contains(stderr.String(), "--har "+har) {
		t.Errorf("stderr does not name the unwritten HAR:\n%s", stderr.String())
	}
	// The events file is streamed: named as unfinished, or finished.
	if !strings.Contains(stderr.String(), "--events "+events+" (no trailer") {
		rp, err := report.OpenReplay(events)
		if err == nil {
			if _, _, err = rp.Report(); err == nil && len(rp.Warnings()) > 0 {
				err = errors.New(strings.Join(rp.Warnings(), "; "))
			}
		}
		if err != nil {
			t.Errorf("the events file is not named as unfinished, yet it is not whole: %v", err)
		}
	}
	if _, err := os.Stat(har); !os.IsNotExist(err) {
		t.Errorf("the HAR exists after a forced exit (%v): it must be whole or absent", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}
