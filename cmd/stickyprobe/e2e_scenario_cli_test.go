package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

// runCLI runs the command line in-process and returns exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	code := run(ctx, append([]string{"stickyprobe"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestScenarioListAndShow(t *testing.T) {
	code, out, _ := runCLI(t, "scenario", "list")
	if code != 0 {
		t.Fatalf("scenario list: exit %d", code)
	}
	for _, b := range scenarios.Builtins() {
		if !strings.Contains(out, b.Name) || !strings.Contains(out, b.Description) {
			t.Errorf("scenario list lacks %s: %s", b.Name, out)
		}
	}
	if code, _, stderr := runCLI(t, "scenario", "list", "soak"); code != exitUsage || !strings.Contains(stderr, "scenario show soak") {
		t.Errorf("scenario list soak: exit %d, %q; want 2 pointing at scenario show", code, stderr)
	}
	code, out, _ = runCLI(t, "scenario", "show", "restart-smoke")
	want, err := os.ReadFile("../../scenarios/library/restart-smoke.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || out != string(want) {
		t.Errorf("scenario show restart-smoke: exit %d, output differs from the library file:\n%s", code, out)
	}
}

// Mistakes in a scenario or its command line exit 2 with a message that
// says where, before a single request is sent.
func TestScenarioUsageErrors(t *testing.T) {
	bad := writeScenario(t, "name: typo\nsessions: 10\nmax-duration: 30s\n")
	restart := writeScenario(t, "phases: [{name: before}, {name: restart, exec: 'true'}, {name: after}]\n")
	state := writeScenario(t, `{"schema":"stickyprobe.state/v1","targets":["http://a.example/"],"identify":"auto","token":"auto","sessions":1,"control":0,"session_states":[{"id":0,"seq":1}]}`)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown key", []string{"scenario", "run", bad, "http://127.0.0.1:1/"}, bad + ":3: max-duration: unknown key; did you mean max_duration?"},
		{"built-in without target", []string{"scenario", "run", "restart-smoke"}, "builtin:restart-smoke:1: target: no URL"},
		{"unknown built-in", []string{"scenario", "run", "restart"}, `no built-in scenario "restart"; built-ins: browse, manual-restart`},
		{"missing file", []string{"scenario", "run", "./nope.yaml", "http://127.0.0.1:1/"}, "no such file"},
		{"flag after the name", []string{"scenario", "run", "smoke", "--sessions", "3"}, `"--sessions" after the scenario's name: flags go first`},
		{"unknown exec phase", []string{"scenario", "run", "--exec", "deploy=true", restart, "http://127.0.0.1:1/"}, `no exec phase "deploy" (its exec phases: restart)`},
		{"bad exec override", []string{"scenario", "run", "--exec", "restart", restart, "http://127.0.0.1:1/"}, "want PHASE=COMMAND"},
		{"bad flag value", []string{"scenario", "run", "--sessions", "0", "smoke", "http://127.0.0.1:1/"}, "--sessions 0"},
		{"pause without a terminal", []string{"scenario", "run", "manual-restart", "http://127.0.0.1:1/"}, "phase manual pauses until Enter is pressed, but stdin is not a terminal"},
		{"show unknown", []string{"scenario", "show", "nope"}, `no built-in scenario "nope"`},
		{"resume missing file", []string{"run", "--resume", "/nonexistent/state.json"}, "--resume: open /nonexistent/state.json"},
		{"resume other sessions", []string{"run", "--resume", state, "--sessions", "5"}, "saved with --sessions 1, not 5"},
		{"resume other target", []string{"run", "--resume", state, "http://b.example/"}, "saved with targets [http://a.example/]"},
		{"resume not a state", []string{"run", "--resume", bad}, "not a stickyprobe state file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q\n%s", code, errOut, tt.want, out)
			}
			if strings.Contains(out, "VERDICT") {
				t.Error("a report was printed: the probe ran despite the error")
			}
		})
	}
}

// A pause phase waits for Enter on a terminal; the next request of each
// session is blamed on it if it lands elsewhere. Closed stdin stops the
// run with a usage error after writing the report.
func TestPausePhase(t *testing.T) {
	h := startLB(t, preset(t, "textbook"))
	f, err := scenarios.Parse("pause.yaml", []byte("sessions: 6\nrequests: 3\nphases:\n  - name: before\n  - {name: manual, pause: restart now}\n  - name: after\n"))
	if err != nil {
		t.Fatal(err)
	}
	spec := f.Spec
	if err := applyURLs(&spec, []string{h.URL()}); err != nil {
		t.Fatal(err)
	}
	spec.Rate = 0
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var stderr bytes.Buffer
	res, err := pipeline.Run(ctx, spec, pipeline.Options{Stderr: &stderr, Stdin: strings.NewReader("\n"), Interactive: true})
	if err != nil || res.Report.Verdict != report.Pass {
		t.Fatalf("pipeline.Run: %v, result %+v", err, res)
	}
	rep := res.Report
	if p := phaseOf(t, rep, "after"); p.After != "manual" || p.Requests == 0 {
		t.Errorf("phase after: %+v, want it to follow manual", p)
	}
	if a := phaseOf(t, rep, "manual").Action; a == nil || a.Failed {
		t.Errorf("pause action %+v", a)
	}
	if !strings.Contains(stderr.String(), "phase manual: restart now\nPress Enter") {
		t.Errorf("prompt not shown:\n%s", stderr.String())
	}

	res, err = pipeline.Run(ctx, spec, pipeline.Options{Stdin: strings.NewReader(""), Interactive: true})
	err = runExit(res, err)
	rep = res.Report
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "stdin closed before Enter was pressed") {
		t.Fatalf("closed stdin: %v (exit %d), want a usage error", err, exitCode(err))
	}
	if rep == nil || phaseOf(t, rep, "before").Requests == 0 || !phaseOf(t, rep, "after").Skipped {
		t.Errorf("closed stdin: the report should cover the phase before the pause and mark the rest skipped: %+v", rep)
	}
}
