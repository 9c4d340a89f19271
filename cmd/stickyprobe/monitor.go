package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/stickyprobe/stickyprobe/metrics"
	"github.com/stickyprobe/stickyprobe/monitor"
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
			return runMonitor(c.Context, cfg, c.App.ErrWriter)
		},
	}
}

func monitorConfigFromFlags(c *cli.Context) (monitor.Config, error) {
	spec, err := monitorSpec(c)
	if err != nil {
		return monitor.Config{}, err
	}
	label := c.String("scenario-label")
	if !c.IsSet("scenario-label") && spec.Name != "" {
		label = spec.Name
	}
	addr := c.String("haproxy-socket")
	cfg := monitor.Config{
		Spec:        spec,
		Scenario:    label,
		Every:       c.Duration("every"),
		Jitter:      c.Float64("jitter"),
		Lifetime:    c.Duration("session-lifetime"),
		Listen:      c.String("listen"),
		Textfile:    c.String("prom-textfile"),
		MaxBackends: c.Int("max-backends"),
		Cycles:      c.Int("cycles"),
		LogFormat:   c.String("log-format"),
		Version:     version,
		Watch: func(ctx context.Context, log *slog.Logger) (func(), error) {
			return monitorLBWatch(ctx, addr, log) // haproxy_socket.go
		},
	}
	if err := cfg.Check(); err != nil {
		return cfg, err
	}
	if cfg.HAProxyLog, err = haproxyLogFromFlags(c); err != nil {
		return cfg, err
	}
	return cfg, cfg.Fit()
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

// runMonitor runs the monitor and maps what stopped it to an exit code:
// a stop by signal or --cycles is exit 0.
func runMonitor(ctx context.Context, cfg monitor.Config, stderr io.Writer) error {
	err := monitor.Run(ctx, cfg, stderr)
	var cr *monitor.CannotRunError
	if errors.As(err, &cr) {
		return withCode(exitCannotRun, "%v", cr.Err)
	}
	return err
}
