package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/report"
)

// serveLabBinary starts `stickyprobe lab --serve name` and returns the
// flags and URL to probe it with and its control endpoint, read from what
// it prints. The process is interrupted when the test ends.
func serveLabBinary(t *testing.T, name string) (resolve []string, url, control string) {
	t.Helper()
	cmd := exec.Command(binary(t), "lab", "--serve", name)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		if !exitsWithin(cmd, 10*time.Second) {
			t.Error("lab --serve still running 10 s after Ctrl-C")
		}
	})
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	smoke := regexp.MustCompile(`restart=curl -fsS -X POST (http://127\.0\.0\.1:\d+)/restart' (?:--insecure )?--resolve (\S+) restart-smoke (\S+)$`)
	deadline := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("lab --serve exited before printing how to restart it")
			}
			if m := smoke.FindStringSubmatch(line); m != nil {
				go func() {
					for range lines { // keep the pipe drained
					}
				}()
				return []string{"--resolve", m[2]}, m[3], m[1]
			}
		case <-deadline:
			t.Fatal("lab --serve printed no restart-smoke command in 20 s")
		}
	}
}

// post is the test's curl: the exec phase asks the hook, the hook posts.
func post(url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", resp.Status, body)
		}
		return nil
	}
}

// The "done when": restart-smoke pointed at the lab tells a sticky
// restart (cookie insert) from a breaking one (a stick table), through the
// control endpoint lab --serve prints.
func TestRestartSmokeAgainstLabServe(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]report.Verdict{"textbook": report.Pass, "stick-app-cookie": report.Fail} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			resolve, url, control := serveLabBinary(t, name)
			args := append([]string{"--sessions", "30", "--exec", "restart=" + hook(t, post(control+"/restart"))}, resolve...)
			res := scenarioRunCLI(t, append(args, "restart-smoke", url)...)
			rep := res.mustReport(t)
			if rep.Verdict != want || res.code != verdictCode(want) {
				t.Fatalf("verdict %s (exit %d), want %s: %q\n%s", rep.Verdict, res.code, want, rep.Reasons, res.stderr)
			}
			// The flag beats the file: restart-smoke says 200 sessions.
			if rep.Summary.Sessions != 30 {
				t.Errorf("%d sessions, want --sessions 30 over the scenario's 200", rep.Summary.Sessions)
			}
			if want == report.Fail && rep.Causes[report.CauseAfterAction] != rep.Summary.Broken {
				t.Errorf("causes %v: want every broken session after-action", rep.Causes)
			}
			if a := phaseOf(t, rep, "restart").Action; a == nil || a.Failed || !strings.HasPrefix(a.Command, "touch ") {
				t.Errorf("restart phase %+v: want the --exec override, run successfully", a)
			}
		})
	}
}

func TestRunHelpWarnsAboutStateFile(t *testing.T) {
	code, stdout, _ := runBinary(t, "run", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	flat := strings.Join(strings.Fields(stdout), " ")
	for _, want := range []string{"--save-state", "application session cookies included", "mode 0600", "--resume", "--junit"} {
		if !strings.Contains(flat, want) {
			t.Errorf("run --help lacks %q", want)
		}
	}
}
