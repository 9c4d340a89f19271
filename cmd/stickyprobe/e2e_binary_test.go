package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/report"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the real stickyprobe once per test run, so exit codes and
// signals are tested as users meet them.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "stickyprobe-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "stickyprobe")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("building stickyprobe: %v", buildErr)
	}
	return binPath
}

func runBinary(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func TestBinaryExitCodes(t *testing.T) {
	textbook := startLB(t, preset(t, "textbook"))
	broken := startLB(t, preset(t, "no-cookie"))
	single := startLB(t, preset(t, "single-backend"))

	// A port with nothing listening: bind it, note it, close it. On
	// 127.0.0.2, which no test binds, so a parallel test cannot take the
	// released port and answer in its place.
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + l.Addr().String() + "/"
	l.Close()

	small := []string{"run", "--sessions", "12", "--requests", "4", "--rate", "0"}
	tests := []struct {
		name   string
		args   []string
		want   int
		stderr string
	}{
		{"pass", append(small, textbook.URL()), exitPass, ""},
		{"fail", append(small, broken.URL()), exitFail, ""},
		{"bad flag", []string{"run", "--sessions", "many", textbook.URL()}, exitUsage, "--sessions"},
		{"unknown flag", []string{"run", "--bogus", textbook.URL()}, exitUsage, "bogus"},
		{"bad --id", []string{"run", "--id", "hdr:X", textbook.URL()}, exitUsage, "--id"},
		{"no target", []string{"run"}, exitUsage, "no target"},
		{"one request per session", []string{"run", "--requests", "1", textbook.URL()}, exitUsage, "two responses or more"},
		{"bad --frontends", []string{"run", "--frontends", "all", textbook.URL(), broken.URL()}, exitUsage, "--frontends"},
		{"burst above concurrency", []string{"run", "--burst", "8", "--concurrency", "4", textbook.URL()}, exitUsage, "--concurrency 8 or more"},
		{"bad --source-ips", []string{"run", "--source-ips", "127.0.0.9-127.0.0.2", textbook.URL()}, exitUsage, "ends before it starts"},
		{"nothing listening", append(small, deadURL), exitCannotRun, "refused"},
		{"inconclusive", append(small, single.URL()), exitInconclusive, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runBinary(t, tt.args...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, stdout, stderr)
			}
			if !strings.Contains(stderr+stdout, tt.stderr) {
				t.Errorf("output does not mention %q:\n%s%s", tt.stderr, stdout, stderr)
			}
		})
	}
}

// Ctrl-C mid-run stops the run, still writes the (partial) report and
// exits 130.
func TestBinaryInterruptWritesPartialReport(t *testing.T) {
	h := startLB(t, preset(t, "textbook"))
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(binary(t), "run", "--sessions", "20", "--requests", "100", "--rate", "40", "--json", jsonPath, h.URL())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if !exitsWithin(cmd, 15*time.Second) {
		t.Fatal("still running 15 s after Ctrl-C")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit %d, want 130; stderr:\n%s", code, stderr.String())
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatalf("no partial report: %v", err)
	}
	var rep report.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Run.Interrupted || rep.Summary.Requests == 0 || rep.Summary.Requests >= 2000 {
		t.Errorf("partial report: interrupted=%v requests=%d, want interrupted with some but not all 2000+ requests", rep.Run.Interrupted, rep.Summary.Requests)
	}
}

func TestHelpTeaches(t *testing.T) {
	code, stdout, _ := runBinary(t, "run", "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, want := range []string{"EXIT CODES", "inconclusive", "--conn", "a new TCP connection per request", "--resolve", "--max-duration"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("run --help lacks %q", want)
		}
	}
}

// The lab checks its flags before it starts anything: a usage error.
func TestLabCommandRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--sessions", "0"}, {"--requests", "1"}, {"--config", "nope"}, {"--lb", "traefik"},
		{"--lb", "nginx", "--config", "textbook"}, {"--serve", "nope"}} {
		code, _, stderr := runBinary(t, append([]string{"lab"}, args...)...)
		if code != exitUsage || !strings.Contains(stderr, args[0]) {
			t.Errorf("lab %v: exit %d, stderr %q; want 2 naming %s", args, code, stderr, args[0])
		}
	}
}

func TestLabCommandShowsEveryConfig(t *testing.T) {
	code, stdout, stderr := runBinary(t, "lab", "--sessions", "12", "--requests", "4")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	want := map[string]string{
		"textbook":         "PASS",
		"redispatch":       "PASS",
		"no-cookie":        "FAIL",
		"no-server-cookie": "FAIL",
		"single-backend":   "INCONCLUSIVE",
		"cookie-domain":    "FAIL",
		"cookie-secure":    "FAIL",
		"stick-app-cookie": "PASS",
		"source":           "PASS",
		"source-nat":       "FAIL",
		"nodes-disagree":   "FAIL",

		"nginx-hash-cookie":      "FAIL",
		"nginx-hash-remote-addr": "PASS",
		"nginx-ip-hash":          "PASS",
		"nginx-ip-hash-one-24":   "FAIL",
		"nginx-round-robin":      "FAIL",
		"caddy-cookie":           "PASS",
		"caddy-nodes-secrets":    "FAIL",
		"caddy-round-robin":      "FAIL",
		"caddy-ip-hash":          "PASS",
		"apache-routeid":         "PASS",
		"apache-route-no-dot":    "FAIL",
		"apache-unset-cookie":    "FAIL",
	}
	for name, verdict := range want {
		line := ""
		for _, l := range strings.Split(stdout, "\n") {
			if strings.Contains(l, " "+name+" ") {
				line = l
				break
			}
		}
		if !strings.Contains(line, verdict) {
			t.Errorf("config %s: want %s in its row, got %q\n%s", name, verdict, line, stdout)
		}
	}
}

// exitsWithin waits for the started cmd to exit; past d it kills it (and
// reaps it) and reports false.
func exitsWithin(cmd *exec.Cmd, d time.Duration) bool {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		return false
	}
}
