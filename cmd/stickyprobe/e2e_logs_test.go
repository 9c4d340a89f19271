package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
)

func runLogs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, append([]string{"stickyprobe", "logs"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// Two nodes with different cookie values: every switch the probe reports
// (frontend-changed) is, in the LB's own words, a cookie it did not know;
// joined by the client address with --no-mark, by the mark without.
func TestLogsJoinNodesWithInconsistentCookieValues(t *testing.T) {
	l := startLab(t, preset(t, "textbook"))
	other := preset(t, "textbook")
	other.CookiePrefix = "b"
	b := addNode(t, l, other)
	a := l.LB.(*lab.HAProxy)
	lines := 2 // the lab's readiness requests
	for _, by := range []string{"address", "mark"} {
		args := []string{"--sessions", "10", "--requests", "4", "--frontends", "rotate", "--control", "0"}
		if by == "address" {
			args = append(args, "--no-mark")
		}
		res := probeRun(t, append(args, nodeArgs(l.LB, b)...)...)
		if rep := res.mustReport(t); rep.Summary.Broken == 0 {
			t.Fatalf("no broken session: %+v", rep.Summary)
		}
		lines += 40
		waitLogs(t, lines, a, b)
		code, out, errOut := runLogs(t, "--events", res.eventsPath, a.RequestLog(), b.RequestLog())
		if code != exitFail || !strings.Contains(out, "Verdict: FAIL") {
			t.Fatalf("exit %d, want 1 (HAProxy saw invalid cookies)\n%s\n%s", code, out, errOut)
		}
		m := regexp.MustCompile(`\((\d+) of (\d+) found in the log\)`).FindStringSubmatch(out)
		if m == nil || m[1] != m[2] || m[1] == "0" {
			t.Fatalf("by %s: not every switch joined:\n%s", by, out)
		}
		n, _ := strconv.Atoi(m[1])
		checkLogsJSON(t, by, n, res.eventsPath, a.RequestLog(), b.RequestLog())
		for _, want := range []string{"client cookie I (invalid), server cookie I (inserted) [by " + by + "]", "confirms the report"} {
			if got := strings.Count(out, want); got != n {
				t.Errorf("by %s: %d of %d switches with %q:\n%s", by, got, n, want, out)
			}
		}
	}
}

// waitLogs waits (bounded) until the nodes' request logs hold n lines.
func waitLogs(t *testing.T, n int, nodes ...*lab.HAProxy) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		total := 0
		for _, h := range nodes {
			b, _ := os.ReadFile(h.RequestLog())
			total += bytes.Count(b, []byte("\n"))
		}
		if total >= n || time.Now().After(deadline) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A textbook run's log passes; a gzip-rotated copy with a garbage line
// reads the same, with the line counted and shown, not fatal.
func TestLogsTextbookRotatedAndUnreadable(t *testing.T) {
	h := startLB(t, preset(t, "textbook"))
	res := probeRun(t, append([]string{"--sessions", "5", "--requests", "4", "--control", "0"}, hostArgs(h)...)...)
	if res.code != exitPass {
		t.Fatalf("run exit %d\n%s", res.code, res.stdout)
	}
	waitLogs(t, 22, h)
	code, out, _ := runLogs(t, h.RequestLog())
	if code != exitPass || !strings.Contains(out, "Verdict: PASS") || !strings.Contains(out, "stickiness 100.0%") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	data, err := os.ReadFile(h.RequestLog())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(data)
	zw.Write([]byte("this is not a log line SECRET=hunter2\n"))
	zw.Close()
	rotated := filepath.Join(dir, "haproxy.log.1.gz")
	if err := os.WriteFile(rotated, z.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out2, _ := runLogs(t, "--bucket", "0", rotated)
	if code != exitPass || !strings.Contains(out2, "1 unreadable") || !strings.Contains(out2, "haproxy.log.1.gz:") {
		t.Fatalf("exit %d\n%s", code, out2)
	}
	if strings.Contains(out2, "hunter2") || strings.Contains(out2, "Timeline") {
		t.Errorf("a secret in the sample, or a timeline with --bucket 0:\n%s", out2)
	}
}

func TestLogsUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"--log-format", "%ci %ST", "x"}, {"--tz", "Mars/Olympus", "x"}, {"--min-stickiness", "2", "x"}} {
		if code, _, errOut := runLogs(t, args...); code != exitUsage || errOut == "" {
			t.Errorf("%q: exit %d, %q; want 2 with a message", args, code, errOut)
		}
	}
	if code, _, _ := runLogs(t, filepath.Join(t.TempDir(), "missing.log")); code != exitCannotRun {
		t.Errorf("a missing file: exit %d, want 3", code)
	}
	empty := filepath.Join(t.TempDir(), "empty.log")
	os.WriteFile(empty, nil, 0o600)
	if code, out, _ := runLogs(t, empty); code != exitCannotRun || !strings.Contains(out, "no request line") {
		t.Errorf("an empty log: exit %d, want 3\n%s", code, out)
	}
}

// --follow prints a line per bucket while the log grows and the report
// when interrupted, with the exit code of its verdict.
func TestLogsFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "haproxy.log")
	line := func(i int, term string) string {
		return fmt.Sprintf("127.0.0.1:%d [%s] fe_main be_app/server1 0/0/0/1/1 200 10 - - %s 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"\n",
			40000+i, time.Now().Format("02/Jan/2006:15:04:05.000"), term)
	}
	if err := os.WriteFile(path, []byte(line(0, "--NI")), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"stickyprobe", "logs", "--follow", "--bucket", "200ms", path}, stdout, stderr)
	}()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		f.WriteString(line(i, "--VN"))
	}
	f.Close()
	live := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d  (\d+) requests  sticky (\S+)  V (\d+)`)
	eventually(t, 10*time.Second, "live bucket lines adding up to the 6 requests, 5 kept", func() (bool, string) {
		reqs, kept := 0, 0
		for _, m := range live.FindAllStringSubmatch(stdout.String(), -1) {
			n, _ := strconv.Atoi(m[1])
			v, _ := strconv.Atoi(m[3])
			reqs, kept = reqs+n, kept+v
		}
		return reqs == 6 && kept == 5, stdout.String()
	})
	cancel()
	var code int
	select {
	case code = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("logs --follow did not stop with its context")
	}
	out := stdout.String()
	if code != exitPass || !strings.Contains(out, "6 requests") || !strings.Contains(out, "Verdict: PASS") {
		t.Errorf("exit %d\n%s\n%s", code, out, stderr)
	}
}

// checkLogsJSON: --json - says what the text says, switch by switch.
func checkLogsJSON(t *testing.T, by string, n int, args ...string) {
	t.Helper()
	code, out, _ := runLogs(t, append([]string{"--json", "-", "--events"}, args...)...)
	var r struct {
		Schema   string `json:"schema"`
		Verdict  string `json:"verdict"`
		Requests int64  `json:"requests"`
		Total    struct {
			Client map[string]int64 `json:"client_cookie"`
		} `json:"total"`
		Switches []struct {
			Found     bool   `json:"found"`
			By        string `json:"by"`
			Term      string `json:"termination_state"`
			Agreement string `json:"agreement"`
		} `json:"switches"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json -: %v\n%s", err, out)
	}
	if code != exitFail || r.Schema != "stickyprobe.logs/v1" || r.Verdict != "fail" || r.Total.Client["I"] == 0 || len(r.Switches) != n {
		t.Fatalf("exit %d, %+v", code, r)
	}
	for _, sw := range r.Switches {
		if !sw.Found || sw.By != by || sw.Term != "--II" || sw.Agreement != "confirms" {
			t.Errorf("switch %+v", sw)
		}
	}
}

// run --haproxy-log joins live: after the report, each switch with the
// line HAProxy wrote for it, read from what the run added to the logs.
func TestRunHAProxyLog(t *testing.T) {
	l := startLab(t, preset(t, "textbook"))
	other := preset(t, "textbook")
	other.CookiePrefix = "b"
	b := addNode(t, l, other)
	a := l.LB.(*lab.HAProxy)
	// HAProxy writes a line when its request ends: let the lab's own
	// readiness requests land before the run notes where the logs end.
	waitLogsSettle(t, a.RequestLog(), b.RequestLog())
	args := []string{"--sessions", "8", "--requests", "4", "--frontends", "rotate", "--control", "0",
		"--haproxy-log", a.RequestLog(), "--haproxy-log", b.RequestLog()}
	res := probeRun(t, append(args, nodeArgs(l.LB, b)...)...)
	rep := res.mustReport(t)
	m := regexp.MustCompile(`HAProxy's log during the run: (\d+) requests`).FindStringSubmatch(res.stdout)
	if m == nil || m[1] != "32" {
		t.Fatalf("want the run's 32 requests and no earlier line read:\n%s", res.stdout)
	}
	found := regexp.MustCompile(`\((\d+) of (\d+) found in the log\)`).FindStringSubmatch(res.stdout)
	if rep.Summary.Broken == 0 || found == nil || found[1] != found[2] || found[1] == "0" {
		t.Fatalf("broken %d; join:\n%s", rep.Summary.Broken, res.stdout)
	}
	n, _ := strconv.Atoi(found[1])
	if got := strings.Count(res.stdout, "[by mark] — confirms the report"); got != n {
		t.Errorf("%d of %d switches confirmed by mark:\n%s", got, n, res.stdout)
	}
}

// waitLogsSettle waits (bounded) until none of the files grew for 300 ms.
func waitLogsSettle(t *testing.T, files ...string) {
	t.Helper()
	size := func() (n int64) {
		for _, f := range files {
			if st, err := os.Stat(f); err == nil {
				n += st.Size()
			}
		}
		return n
	}
	last, stable := size(), time.Now()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if n := size(); n != last {
			last, stable = n, time.Now()
		} else if time.Since(stable) >= 300*time.Millisecond {
			return
		}
	}
	t.Fatalf("the logs %v kept growing for 5 s", files)
}
