package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stickyprobe/stickyprobe/lab"
)

type options struct {
	cycles, requests, sessions, perSession int
	lifetime, interval, limit, every       time.Duration
	conn, bin                              string
	maxGrowth                              float64
}

func main() {
	var o options
	flag.IntVar(&o.cycles, "cycles", 500, "run at least this many cycles")
	flag.IntVar(&o.requests, "requests", 1_000_000, "and at least this many requests")
	flag.IntVar(&o.sessions, "sessions", 400, "sessions per cycle (plus 10% control)")
	flag.IntVar(&o.perSession, "per-session", 5, "requests per session per cycle")
	flag.DurationVar(&o.every, "every", 1500*time.Millisecond, "monitor --every; a cycle is cut at --every, so keep it above one cycle's time")
	flag.DurationVar(&o.lifetime, "lifetime", 0, "monitor --session-lifetime (0 = fresh sessions each cycle)")
	flag.StringVar(&o.conn, "conn", "fresh", "monitor --conn")
	flag.StringVar(&o.bin, "bin", "", "stickyprobe binary (default: build ./cmd/stickyprobe)")
	flag.DurationVar(&o.interval, "sample", 5*time.Second, "time between two samples of the monitor's metrics")
	flag.DurationVar(&o.limit, "limit", time.Hour, "give up after this long")
	flag.Float64Var(&o.maxGrowth, "max-growth", 0.25, "fail when the live heap grows more than this fraction from middle to end")
	flag.Parse()
	if err := soak(o); err != nil {
		fmt.Fprintln(os.Stderr, "monitor-soak:", err)
		os.Exit(1)
	}
}

// sample is one scrape of the monitor.
type sample struct {
	at                          time.Duration
	cycles, requests, errors    float64
	heapLive, heapInuse, rss    float64
	goroutines, backendSeries   float64
	verdictPass, verdictNotPass float64
}

func soak(o options) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ctx, cancelLimit := context.WithTimeout(ctx, o.limit)
	defer cancelLimit()

	bin, err := binary(o.bin)
	if err != nil {
		return err
	}
	l, err := lab.Start(ctx, lab.Options{HAProxy: mustPreset("textbook")})
	if err != nil {
		return err
	}
	defer l.Close()
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	args := []string{"monitor", "--every", o.every.String(), "--jitter", "0", "--rate", "0", "--concurrency", "20",
		"--sessions", strconv.Itoa(o.sessions), "--requests", strconv.Itoa(o.perSession),
		"--conn", o.conn, "--listen", addr, "--log-format", "json", "--scenario-label", "soak"}
	if o.lifetime > 0 {
		args = append(args, "--session-lifetime", o.lifetime.String())
	}
	args = append(args, l.LB.URL())
	cmd := exec.Command(bin, args...)
	logDir, err := os.MkdirTemp("", "stickyprobe-soak-log-")
	if err != nil {
		return err
	}
	logPath := filepath.Join(logDir, "monitor.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()

	fmt.Printf("monitor-soak: %s %v\n  haproxy %s, log %s\n\n", bin, args[:len(args)-1], l.LB.URL(), logPath)
	fmt.Printf("%8s %7s %10s %7s %12s %12s %10s %6s %8s\n", "elapsed", "cycles", "requests", "errors", "heap_live", "heap_inuse", "rss", "gorout", "backends")
	began := time.Now()
	var samples []sample
	mid := -1 // index of the first sample past half the target
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped before the target: %w", ctx.Err())
		case err := <-exited:
			return fmt.Errorf("the monitor exited on its own: %v (see %s)", err, logPath)
		case <-time.After(o.interval):
		}
		s, err := scrape(addr)
		if err != nil || s.cycles < 1 {
			continue // not listening yet, or still in its first cycle
		}
		s.at = time.Since(began)
		fmt.Printf("%8s %7.0f %10.0f %7.0f %12s %12s %10s %6.0f %8.0f\n", s.at.Round(time.Second), s.cycles, s.requests,
			s.errors, mib(s.heapLive), mib(s.heapInuse), mib(s.rss), s.goroutines, s.backendSeries)
		samples = append(samples, s)
		if mid < 0 && s.cycles >= float64(o.cycles)/2 && s.requests >= float64(o.requests)/2 {
			mid = len(samples) - 1
		}
		if s.cycles >= float64(o.cycles) && s.requests >= float64(o.requests) {
			break
		}
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		return errors.New("the monitor did not stop within 15s of SIGTERM")
	}

	// Each point is the median of the (up to 5) samples around it: the live heap
	// at one GC depends on where in a cycle the GC happened to run.
	first, middle, last := around(samples, 0), around(samples, mid), around(samples, len(samples)-1)
	fmt.Printf("\n%-7s %8s %7s %10s %12s %12s %10s   (medians of 5 samples)\n", "point", "elapsed", "cycles", "requests", "heap_live", "heap_inuse", "rss")
	for _, p := range []struct {
		name string
		s    sample
	}{{"start", first}, {"middle", middle}, {"end", last}} {
		fmt.Printf("%-7s %8s %7.0f %10.0f %12s %12s %10s\n", p.name, p.s.at.Round(time.Second), p.s.cycles, p.s.requests,
			mib(p.s.heapLive), mib(p.s.heapInuse), mib(p.s.rss))
	}
	end := samples[len(samples)-1]
	fmt.Printf("\nverdicts: %.0f pass, %.0f other; request errors %.0f; exit after SIGTERM: 0\n", end.verdictPass, end.verdictNotPass, end.errors)
	growth := (last.heapLive - middle.heapLive) / middle.heapLive
	fmt.Printf("live heap middle -> end: %+.1f%%; rss middle -> end: %+.1f%%\n", 100*growth, 100*(last.rss-middle.rss)/middle.rss)
	if last.heapLive > middle.heapLive*(1+o.maxGrowth)+(1<<20) {
		return fmt.Errorf("live heap grew %.0f%% from middle to end (limit %.0f%% + 1 MiB)", 100*growth, 100*o.maxGrowth)
	}
	return nil
}

// around returns the sample at i whose memory figures are the medians of
// the samples i-2..i+2 (clamped to the list).
func around(samples []sample, i int) sample {
	lo, hi := max(i-2, 0), min(i+3, len(samples))
	s := samples[min(max(i, 0), len(samples)-1)]
	s.heapLive = median(samples[lo:hi], func(x sample) float64 { return x.heapLive })
	s.heapInuse = median(samples[lo:hi], func(x sample) float64 { return x.heapInuse })
	s.rss = median(samples[lo:hi], func(x sample) float64 { return x.rss })
	return s
}

func median(list []sample, f func(sample) float64) float64 {
	v := make([]float64, len(list))
	for i, x := range list {
		v[i] = f(x)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

// scrape reads the monitor's /metrics.
func scrape(addr string) (sample, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return sample{}, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return sample{}, err
	}
	sum := func(name string, pred func(labels map[string]string) bool) float64 {
		total := 0.0
		mf := fams[name]
		if mf == nil {
			return 0
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if pred != nil && !pred(labels) {
				continue
			}
			switch {
			case m.Counter != nil:
				total += m.Counter.GetValue()
			case m.Gauge != nil:
				total += m.Gauge.GetValue()
			}
		}
		return total
	}
	count := func(name string) float64 {
		if mf := fams[name]; mf != nil {
			return float64(len(mf.GetMetric()))
		}
		return 0
	}
	return sample{
		cycles:         sum("stickyprobe_cycles_total", nil),
		requests:       sum("stickyprobe_requests_total", nil),
		errors:         sum("stickyprobe_request_errors_total", nil),
		heapLive:       sum("go_gc_heap_live_bytes", nil),
		heapInuse:      sum("go_memstats_heap_inuse_bytes", nil),
		rss:            sum("process_resident_memory_bytes", nil),
		goroutines:     sum("go_goroutines", nil),
		backendSeries:  count("stickyprobe_backend_requests_total"),
		verdictPass:    sum("stickyprobe_cycles_total", func(l map[string]string) bool { return l["verdict"] == "pass" }),
		verdictNotPass: sum("stickyprobe_cycles_total", func(l map[string]string) bool { return l["verdict"] != "pass" }),
	}, nil
}

func binary(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	dir, err := os.MkdirTemp("", "stickyprobe-soak-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "stickyprobe")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/stickyprobe").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/stickyprobe (run from the repository root): %v\n%s", err, out)
	}
	return bin, nil
}

func mustPreset(name string) lab.HAProxyConfig {
	p, ok := lab.PresetByName(name)
	if !ok {
		panic("no preset " + name)
	}
	return p.Config
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
