package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/stickyprobe/stickyprobe/metrics"
	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/redact"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

const catMonitor = "Monitoring"

// The monitor's load defaults: about 115 requests per cycle at 5 per
// second, once a minute, 4 in flight. A probe that runs for weeks against
// production must be a rounding error in its traffic.
var monitorDefaults = map[string]any{
	"sessions":     20,
	"requests":     5,
	"concurrency":  4,
	"rate":         5.0,
	"max-duration": 50 * time.Second,
}

// gentle lowers run's load defaults to the monitor's.
func gentle(flags []cli.Flag) []cli.Flag {
	for _, f := range flags {
		switch f := f.(type) {
		case *cli.IntFlag:
			if v, ok := monitorDefaults[f.Name].(int); ok {
				f.Value = v
			}
		case *cli.Float64Flag:
			if v, ok := monitorDefaults[f.Name].(float64); ok {
				f.Value = v
			}
		case *cli.DurationFlag:
			if v, ok := monitorDefaults[f.Name].(time.Duration); ok {
				f.Value = v
				f.Usage += " (and at most --every)"
			}
		}
	}
	return flags
}

func scenarioLabelFlag() cli.Flag {
	return &cli.StringFlag{Name: "scenario-label", Value: metrics.DefaultScenario, Category: catMonitor,
		Usage: "value of the scenario label on every metric, to tell several monitors apart"}
}

func textfileFlag() cli.Flag {
	return &cli.StringFlag{Name: "prom-textfile", Category: catMonitor,
		Usage: "write the metrics to `PATH` for node_exporter's textfile collector (atomically: temp file + rename; name it *.prom)"}
}

func monitorFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "every", Value: time.Minute, Category: catMonitor,
			Usage: "from the start of one cycle to the start of the next (a cycle that overruns is followed at once)"},
		&cli.Float64Flag{Name: "jitter", Value: 0.1, Category: catMonitor,
			Usage: "spread each wait by up to this fraction of --every, so monitors started together do not probe in lockstep (0..0.5)"},
		&cli.DurationFlag{Name: "session-lifetime", Category: catMonitor,
			Usage: "keep the same sessions (cookie jars, pins) across cycles for this long, to catch maxidle/maxlife expiry and drift between cycles (0 = fresh sessions every cycle)"},
		&cli.StringFlag{Name: "listen", Value: "127.0.0.1:9341", Category: catMonitor,
			Usage: "serve /metrics and /healthz on `ADDR`; loopback unless you choose otherwise (e.g. 0.0.0.0:9341 in a pod); empty = do not serve"},
		scenarioLabelFlag(),
		textfileFlag(),
		&cli.IntFlag{Name: "max-backends", Value: metrics.DefaultMaxBackends, Category: catMonitor,
			Usage: "distinct backend label values; more backends are counted under \"other\""},
		&cli.StringFlag{Name: "log-format", Value: "text", Category: catMonitor,
			Usage: "one log line per cycle on stderr: text or json"},
		&cli.IntFlag{Name: "cycles", Category: catMonitor,
			Usage: "stop after N cycles (0 = run until SIGTERM/SIGINT)"},
		&cli.StringFlag{Name: "scenario", Category: catMonitor,
			Usage: "run a built-in scenario or a scenario `FILE` each cycle instead of the flags (e.g. soak); flags given override it, " +
				"its requests phases run each cycle (a timed one cut to fit --every), and one that execs or pauses is refused. The scenario's name is the default --scenario-label"},
	}
}

func monitorCommand() *cli.Command {
	return &cli.Command{
		Name:      "monitor",
		Usage:     "probe on a schedule and export Prometheus metrics (long-running)",
		ArgsUsage: "URL...",
		Description: "Runs a small probe cycle (the same flags as `run`, with gentler defaults) every --every,\n" +
			"with jitter, until stopped. Serves Prometheus metrics on --listen (/metrics, /healthz) and logs\n" +
			"one line per cycle on stderr, plus one timeline per cause of broken sessions. Memory does not\n" +
			"grow with cycles: each cycle is aggregated as it streams and only counters outlive it.\n" +
			"SIGTERM or SIGINT cuts the current cycle, flushes the textfile and exits 0.\n\n" +
			"Examples:\n" +
			"   stickyprobe monitor http://lb.example/\n" +
			"   stickyprobe monitor --every 5m --session-lifetime 1h --id header:X-Served-By https://shop.example/\n" +
			"   stickyprobe monitor --listen 0.0.0.0:9341 --log-format json --scenario-label shop https://shop.example/",
		Flags: append(append(append(gentle(probeFlags()), monitorFlags()...), haproxySocketFlag()), haproxyLogFlags()...),
		Action: func(c *cli.Context) error {
			cfg, err := monitorConfigFromFlags(c)
			if err != nil {
				return err
			}
			return monitor(c.Context, cfg, c.App.ErrWriter)
		},
	}
}

type monitorConfig struct {
	spec        scenarios.Spec
	scenario    string
	every       time.Duration
	jitter      float64
	lifetime    time.Duration
	listen      string
	textfile    string
	maxBackends int
	cycles      int
	logFormat   string
	haproxy     string           // --haproxy-socket (haproxy_socket.go)
	haproxyLog  haproxyLogConfig // monitor_haproxylog.go
}

// minEvery keeps a typo (--every 1ms) from turning the monitor into a
// load test; tests use a few hundred milliseconds.
const minEvery = 100 * time.Millisecond

func monitorConfigFromFlags(c *cli.Context) (monitorConfig, error) {
	spec, err := monitorSpec(c)
	if err != nil {
		return monitorConfig{}, err
	}
	label := c.String("scenario-label")
	if !c.IsSet("scenario-label") && spec.Name != "" {
		label = spec.Name
	}
	cfg := monitorConfig{
		spec:        spec,
		scenario:    label,
		every:       c.Duration("every"),
		jitter:      c.Float64("jitter"),
		lifetime:    c.Duration("session-lifetime"),
		listen:      c.String("listen"),
		textfile:    c.String("prom-textfile"),
		maxBackends: c.Int("max-backends"),
		cycles:      c.Int("cycles"),
		logFormat:   c.String("log-format"),
		haproxy:     c.String("haproxy-socket"),
	}
	if err := cfg.check(); err != nil {
		return cfg, err
	}
	if cfg.haproxyLog, err = haproxyLogFromFlags(c); err != nil {
		return cfg, err
	}
	// Cycles never overlap, and one must not outlast the schedule: a
	// scenario's timed phase (soak's ten minutes) is cut to fit.
	cfg.spec.MaxDuration = min(cfg.spec.MaxDuration, cfg.every)
	for i := range cfg.spec.Phases {
		if p := &cfg.spec.Phases[i]; p.Duration > cfg.spec.MaxDuration {
			p.Duration = cfg.spec.MaxDuration
		}
	}
	if err := cfg.spec.Validate(); err != nil {
		return cfg, fmt.Errorf("--every %v: %w", cfg.every, err)
	}
	return cfg, checkMonitorPlan(cfg.spec, cfg.every)
}

// check refuses monitor settings out of range, naming the flag.
func (cfg monitorConfig) check() error {
	switch {
	case cfg.every < minEvery:
		return fmt.Errorf("--every %v: want at least %v", cfg.every, minEvery)
	case cfg.jitter < 0 || cfg.jitter > 0.5:
		return fmt.Errorf("--jitter %v: want 0..0.5", cfg.jitter)
	case cfg.lifetime < 0:
		return fmt.Errorf("--session-lifetime %v: want 0 or more", cfg.lifetime)
	case cfg.scenario == "":
		return fmt.Errorf("--scenario-label: want a name")
	case cfg.maxBackends < 1:
		return fmt.Errorf("--max-backends %d: want at least 1", cfg.maxBackends)
	case cfg.cycles < 0:
		return fmt.Errorf("--cycles %d: want 0 (forever) or more", cfg.cycles)
	case cfg.logFormat != "text" && cfg.logFormat != "json":
		return fmt.Errorf("--log-format %q: want text or json", cfg.logFormat)
	}
	if cfg.listen != "" {
		if _, _, err := net.SplitHostPort(cfg.listen); err != nil {
			return fmt.Errorf("--listen %q: %v", cfg.listen, err)
		}
	}
	return checkTextfileDir(cfg.textfile)
}

// monitorSpec is the spec of each cycle: --scenario's, with the flags
// given on the command line over it, or the flags alone.
func monitorSpec(c *cli.Context) (scenarios.Spec, error) {
	name := c.String("scenario")
	if name == "" {
		if c.NArg() == 0 {
			return scenarios.Spec{}, fmt.Errorf("no target: give at least one frontend URL, e.g. `stickyprobe monitor http://lb.example/`")
		}
		spec, err := specFrom(c, nil, c.Args().Slice())
		if err != nil {
			return spec, err
		}
		return spec, spec.Validate()
	}
	f, err := loadScenario(c.Context, name)
	if err != nil {
		return scenarios.Spec{}, err
	}
	spec, err := specFrom(c, f, c.Args().Slice())
	if err != nil {
		return spec, err
	}
	for _, p := range spec.Plan() {
		if p.Kind == scenarios.PhaseExec || p.Kind == scenarios.PhasePause {
			return spec, fmt.Errorf("--scenario %s: phase %s is an %s phase; a monitor runs requests phases every cycle and would %s every time: "+
				"use `stickyprobe scenario run` for it", name, p.Name, p.Kind, map[scenarios.PhaseKind]string{
				scenarios.PhaseExec: "run its command", scenarios.PhasePause: "wait for Enter"}[p.Kind])
		}
	}
	if err := f.RequireTarget(spec); err != nil {
		return spec, err
	}
	return spec, spec.Validate()
}

// checkTextfileDir fails fast, before any request, when the textfile
// cannot be written where asked.
func checkTextfileDir(path string) error {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("--prom-textfile %s: %v", path, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("--prom-textfile %s: %s is not a directory", path, dir)
	}
	return nil
}

// monitor runs cycles until ctx is canceled or --cycles is reached. A
// stop is the normal end of a monitor, so it returns nil (exit 0).
func monitor(ctx context.Context, cfg monitorConfig, stderr io.Writer) error {
	log := newLogger(stderr, cfg.logFormat)
	m := metrics.New(metrics.Options{Scenario: cfg.scenario, MaxBackends: cfg.maxBackends, Version: version})
	p := pipeline.NewProber(cfg.spec, cfg.lifetime, nil)
	// Fail before binding anything if the spec cannot run at all.
	if err := p.Check(); err != nil {
		return err
	}
	stopLB, err := monitorLBWatch(ctx, cfg.haproxy, log)
	if err != nil {
		return err
	}
	defer stopLB()
	live := newLiveness(2*cfg.every + cfg.spec.MaxDuration + cfg.spec.Timeout)
	srv, err := serveMetrics(cfg.listen, m, live, log)
	if err != nil {
		return withCode(exitCannotRun, "--listen %s: %v", cfg.listen, err)
	}
	defer srv.shutdown(log)
	defer followHAProxyLog(ctx, cfg.haproxyLog, m, log)()
	rate := "unlimited"
	if cfg.spec.Rate > 0 {
		rate = fmt.Sprintf("at most %g/s", cfg.spec.Rate)
	}
	log.Info("monitoring", "scenario", cfg.scenario, "targets", pipeline.Targets(cfg.spec, redact.New()), "every", cfg.every.String(),
		"session_lifetime", cfg.lifetime.String(), "listen", srv.addr(), "textfile", cfg.textfile,
		"per_cycle", fmt.Sprintf("%d sessions (+%d control) x %d requests, %s", cfg.spec.Sessions,
			cfg.spec.Control(), cfg.spec.Requests, rate))

	// The jitter is the seed's too: a monitor started with --seed waits the
	// same waits.
	sched := pipeline.Schedule{Every: cfg.every, Jitter: cfg.jitter, Cycles: cfg.cycles, Seed: rand.Uint64()}
	if cfg.spec.Seed != 0 {
		sched.Seed = uint64(cfg.spec.Seed)
	}
	err = sched.Run(ctx, func(ctx context.Context) (pipeline.CycleResult, error) { return p.Cycle(ctx, m) }, func(c pipeline.Cycle) {
		live.beat(time.Now())
		logCycle(log, c.Result, c.NextIn)
		flushTextfile(log, m, cfg.textfile)
		if c.Overran {
			log.Warn("cycle overran --every; starting the next one now", "cycle", c.Result.Number, "every", cfg.every.String())
		}
	})
	reason := "stopped by signal"
	switch {
	case errors.Is(err, pipeline.ErrCyclesDone):
		reason = fmt.Sprintf("--cycles %d done", cfg.cycles)
	case err != nil: // the spec was checked above; this is not the target's fault
		return withCode(exitCannotRun, "cycle: %v", err)
	}
	log.Info("stopped", "reason", reason, "cycles", p.Cycles())
	return nil
}

// flushTextfile writes the textfile after a cycle; a failure is logged,
// not fatal: the next cycle tries again and /metrics still serves.
func flushTextfile(log *slog.Logger, m *metrics.Metrics, path string) {
	if path == "" {
		return
	}
	if err := m.WriteTextfile(path); err != nil {
		log.Error("textfile not written", "path", path, "err", err)
	}
}
