package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// syncBuffer is a bytes.Buffer the monitor's log and the test may use at
// once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddr returns a 127.0.0.1 address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// runningMonitor is `stickyprobe monitor` running in-process.
type runningMonitor struct {
	stop   context.CancelFunc
	done   chan int
	stderr *syncBuffer
}

func startMonitor(t *testing.T, args ...string) *runningMonitor {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	m := &runningMonitor{stop: cancel, done: make(chan int, 1), stderr: &syncBuffer{}}
	full := append([]string{"stickyprobe", "monitor"}, args...)
	go func() { m.done <- run(ctx, full, io.Discard, m.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-m.done:
		case <-time.After(15 * time.Second):
			t.Error("monitor did not stop within 15s of its context's end")
		}
	})
	return m
}

// wait returns the monitor's exit code, failing after timeout.
func (m *runningMonitor) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case code := <-m.done:
		m.done <- code // Cleanup reads it again
		return code
	case <-time.After(timeout):
		t.Fatalf("monitor still running after %v\nlog:\n%s", timeout, m.stderr)
		return -1
	}
}

// families is a parsed exposition, by family name.
type families map[string]*dto.MetricFamily

func parseExposition(t *testing.T, r io.Reader) families {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	return fams
}

// scrape fetches /metrics over real HTTP, as Prometheus does.
func scrape(t *testing.T, addr string) families {
	t.Helper()
	f, err := tryScrape(addr)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	return f
}

func tryScrape(addr string) (families, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

func readTextfile(t *testing.T, path string) families {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseExposition(t, bytes.NewReader(data))
}

// sum adds the values of the series of name whose labels include every
// "k=v" in want; ok is false when no series matches.
func (f families) sum(name string, want ...string) (total float64, ok bool) {
	mf := f[name]
	if mf == nil {
		return 0, false
	}
	for _, mt := range mf.GetMetric() {
		have := make(map[string]string)
		for _, lp := range mt.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		match := true
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			match = match && have[k] == v
		}
		if !match {
			continue
		}
		ok = true
		switch {
		case mt.Counter != nil:
			total += mt.Counter.GetValue()
		case mt.Gauge != nil:
			total += mt.Gauge.GetValue()
		case mt.Histogram != nil:
			total += float64(mt.Histogram.GetSampleCount())
		}
	}
	return total, ok
}

// get is sum for a series that must exist.
func (f families) get(t *testing.T, name string, want ...string) float64 {
	t.Helper()
	v, ok := f.sum(name, want...)
	if !ok {
		t.Fatalf("no series %s%v", name, want)
	}
	return v
}

// eventually polls cond every 50ms until it holds, failing after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("after %v, still not %s (%s)", timeout, what, last)
}

func describeGauge(f families, name string) string {
	v, ok := f.sum(name)
	if !ok {
		return name + " absent"
	}
	return fmt.Sprintf("%s=%v", name, v)
}

func netListen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
