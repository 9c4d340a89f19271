package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

func presetLB(t *testing.T, name string) *lab.HAProxy {
	t.Helper()
	p, ok := lab.PresetByName(name)
	if !ok {
		t.Fatalf("no lab preset %q", name)
	}
	return startLBWith(t, p.Config, p.Backend)
}

// resolveArgs and hostURL split hostArgs: scenario run wants its flags
// before the scenario's name and the URL after it.
func resolveArgs(h *lab.HAProxy) []string { return hostArgs(h)[:2] }
func hostURL(h *lab.HAProxy) string       { return hostArgs(h)[2] }

// hook returns a shell command for an exec phase that has the test run act
// (restart the lab's HAProxy, say) and waits until it has. The command
// creates a request file; a goroutine of the test polls for it, runs act
// and writes the result file the command waits for. The shell needs no
// network client, and every wait is bounded.
func hook(t *testing.T, act func(context.Context) error) string {
	t.Helper()
	dir := t.TempDir()
	req, done := filepath.Join(dir, "req"), filepath.Join(dir, "done")
	stop, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		deadline := time.After(2 * time.Minute)
		for {
			select {
			case <-stop:
				return
			case <-deadline:
				return
			case <-tick.C:
			}
			if _, err := os.Stat(req); err != nil {
				continue
			}
			os.Remove(req)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			result := "ok"
			if err := act(ctx); err != nil {
				result = err.Error()
			}
			cancel()
			os.WriteFile(done+".tmp", []byte(result+"\n"), 0o600)
			os.Rename(done+".tmp", done)
		}
	}()
	t.Cleanup(func() { close(stop); <-finished })
	return fmt.Sprintf(`touch '%[1]s'; i=0; while [ ! -e '%[2]s' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; `+
		`r=$(cat '%[2]s'); rm -f '%[2]s'; echo "$r"; [ "$r" = ok ]`, req, done)
}

// writeScenario writes a scenario file for a test.
func writeScenario(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type scenarioResult struct {
	probeResult
	junit []byte
}

// scenarioRunCLI runs `stickyprobe scenario run` in-process with a JSON
// report, an events file and a JUnit report; args are flags, then the
// scenario and its URLs.
func scenarioRunCLI(t *testing.T, args ...string) scenarioResult {
	t.Helper()
	dir := t.TempDir()
	jsonPath, eventsPath, junitPath := filepath.Join(dir, "report.json"), filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "junit.xml")
	full := append([]string{"stickyprobe", "scenario", "run", "--json", jsonPath, "--events", eventsPath, "--junit", junitPath,
		"--rate", "0", "--max-duration", "60s"}, args...)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	code := run(ctx, full, &stdout, &stderr)
	res := scenarioResult{probeResult: probeResult{code: code}}
	res.stdout, res.stderr = stdout.String(), stderr.String()
	if data, err := os.ReadFile(jsonPath); err == nil {
		res.report = new(report.Report)
		if err := json.Unmarshal(data, res.report); err != nil {
			t.Fatalf("JSON report does not parse: %v", err)
		}
	}
	if data, err := os.ReadFile(eventsPath); err == nil {
		res.events = decodeEvents(t, data)
	}
	if data, err := os.ReadFile(junitPath); err == nil {
		res.junit = data
		var doc struct{}
		if err := xml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("JUnit report does not parse: %v\n%s", err, data)
		}
	}
	return res
}

// decodeEvents is readEvents for a complete file: it must have its
// trailer.
func decodeEvents(t *testing.T, data []byte) []probe.Event {
	t.Helper()
	dec, err := report.NewEventDecoder(bytes.NewReader(data), "events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for {
		var ev probe.Event
		if err := dec.Decode(&ev); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := dec.Trailer(); !ok {
		t.Fatal("events file has no trailer")
	}
	return readEvents(t, data)
}

// phaseOf returns the report's phase called name.
func phaseOf(t *testing.T, rep *report.Report, name string) report.Phase {
	t.Helper()
	for _, p := range rep.Phases {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no phase %q in the report: %+v", name, rep.Phases)
	return report.Phase{}
}
