package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/lab/labrun"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// startLB starts three real backends and a real haproxy with cfg in front
// of them, all on 127.0.0.1, stopped when the test ends. A missing haproxy
// fails the test: CI installs it, and a skip would hide that it did not.
func startLB(t *testing.T, cfg lab.HAProxyConfig) *lab.HAProxy {
	t.Helper()
	return startLBWith(t, cfg, lab.BackendOptions{})
}

// startLBWith is startLB with backends that do more than name themselves
// (set an application cookie, echo Authorization).
func startLBWith(t *testing.T, cfg lab.HAProxyConfig, opts lab.BackendOptions) *lab.HAProxy {
	t.Helper()
	if _, err := lab.FindHAProxy(); err != nil {
		t.Fatal(err)
	}
	backends := startBackendsT(t, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := lab.StartHAProxy(ctx, cfg, backends)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	return h
}

// startBackendsT starts the lab's three backends, stopped when the test
// ends.
func startBackendsT(t *testing.T, opts lab.BackendOptions) []*lab.Backend {
	t.Helper()
	backends, err := lab.StartBackends(3, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.StopBackends(backends) })
	return backends
}

func preset(t *testing.T, name string) lab.HAProxyConfig {
	t.Helper()
	p, ok := lab.PresetByName(name)
	if !ok {
		t.Fatalf("no lab preset %q", name)
	}
	return p.Config
}

// hostArgs probes the LB under a real host name resolved to 127.0.0.1, as
// users reach production: cookie jars treat loopback addresses as secure
// origins and refuse Domain attributes on IPs, which would hide mistakes.
func hostArgs(h *lab.HAProxy) []string {
	port := strconv.Itoa(h.Port())
	return []string{"--resolve", labHost + ":" + port + ":127.0.0.1", "http://" + labHost + ":" + port + "/"}
}

type probeResult struct {
	code   int
	report *report.Report
	events []probe.Event
	stdout string
	stderr string

	jsonPath, eventsPath string
}

// probeRun runs `stickyprobe run` in-process with a JSON report and an
// events file, and decodes both.
func probeRun(t *testing.T, args ...string) probeResult {
	t.Helper()
	dir := t.TempDir()
	jsonPath, eventsPath := filepath.Join(dir, "report.json"), filepath.Join(dir, "events.jsonl")
	full := append([]string{"stickyprobe", "run", "--json", jsonPath, "--events", eventsPath, "--rate", "0", "--max-duration", "60s"}, args...)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	code := run(ctx, full, &stdout, &stderr)
	res := probeResult{code: code, jsonPath: jsonPath, eventsPath: eventsPath}
	res.stdout, res.stderr = stdout.String(), stderr.String()
	if data, err := os.ReadFile(jsonPath); err == nil {
		res.report = new(report.Report)
		if err := json.Unmarshal(data, res.report); err != nil {
			t.Fatalf("JSON report does not parse: %v", err)
		}
	}
	if data, err := os.ReadFile(eventsPath); err == nil {
		res.events = readEvents(t, data)
	}
	return res
}

// readEvents decodes an events file with the decoder report uses, which
// checks every line; a file without a trailer (an interrupted run) is
// fine here.
func readEvents(t *testing.T, data []byte) []probe.Event {
	t.Helper()
	dec, err := report.NewEventDecoder(bytes.NewReader(data), "events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var out []probe.Event
	for {
		var ev probe.Event
		err := dec.Decode(&ev)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
}

func (r probeResult) mustReport(t *testing.T) *report.Report {
	t.Helper()
	if r.report == nil {
		t.Fatalf("no JSON report written (exit %d)\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	return r.report
}

// The lab's host name and source addresses, as the tests spell them.
const labHost = labrun.Host

var labSources24 = labrun.Sources24

// outage is one backend going away during a run: after a pause from the
// previous outage's end (or the schedule's start), for down.
type outage struct {
	backend     string
	after, down time.Duration
}

// startOutages stops and restarts l's backends as plan says, in the
// background; the returned wait blocks until the last is back.
func startOutages(t *testing.T, l *lab.Lab, plan ...outage) (wait func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, o := range plan {
			time.Sleep(o.after)
			b := l.Backend(o.backend)
			b.Stop()
			time.Sleep(o.down)
			if err := b.Start(); err != nil {
				t.Error(err)
			}
		}
	}()
	return func() { <-done }
}
