package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/stickyprobe/stickyprobe/metrics"
	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/redact"
)

// CannotRunError is a monitor that could not go on for a reason that is
// not the target's: the --listen address could not be bound, or a cycle
// could not run at all.
type CannotRunError struct{ Err error }

func (e *CannotRunError) Error() string { return e.Err.Error() }
func (e *CannotRunError) Unwrap() error { return e.Err }

// Run runs cycles until ctx is canceled or cfg.Cycles is reached, logging
// on stderr. A stop is the normal end of a monitor, so it returns nil. A
// spec that cannot run at all is refused before anything is bound, with
// pipeline.Prober.Check's error.
func Run(ctx context.Context, cfg Config, stderr io.Writer) error {
	log := NewLogger(stderr, cfg.LogFormat)
	m := metrics.New(metrics.Options{Scenario: cfg.Scenario, MaxBackends: cfg.MaxBackends, Version: cfg.Version})
	p := pipeline.NewProber(cfg.Spec, cfg.Lifetime, nil)
	if err := p.Check(); err != nil {
		return err
	}
	if cfg.Watch != nil {
		stop, err := cfg.Watch(ctx, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	live := newLiveness(2*cfg.Every + cfg.Spec.MaxDuration + cfg.Spec.Timeout)
	srv, err := serveMetrics(cfg.Listen, m, live, log)
	if err != nil {
		return &CannotRunError{fmt.Errorf("--listen %s: %v", cfg.Listen, err)}
	}
	defer srv.shutdown(log)
	defer followHAProxyLog(ctx, cfg.HAProxyLog, m, log)()
	logStart(log, cfg, srv.addr())
	err = loop(ctx, cfg, p, m, live, log)
	reason := "stopped by signal"
	switch {
	case errors.Is(err, pipeline.ErrCyclesDone):
		reason = fmt.Sprintf("--cycles %d done", cfg.Cycles)
	case err != nil: // the spec was checked above; this is not the target's fault
		return &CannotRunError{fmt.Errorf("cycle: %v", err)}
	}
	log.Info("stopped", "reason", reason, "cycles", p.Cycles())
	return nil
}

// loop runs the schedule; after each cycle it beats the liveness, logs
// the cycle and writes the textfile.
func loop(ctx context.Context, cfg Config, p *pipeline.Prober, m *metrics.Metrics, live *liveness, log *slog.Logger) error {
	// The jitter is the seed's too: a monitor started with --seed waits the
	// same waits.
	sched := pipeline.Schedule{Every: cfg.Every, Jitter: cfg.Jitter, Cycles: cfg.Cycles, Seed: rand.Uint64()}
	if cfg.Spec.Seed != 0 {
		sched.Seed = uint64(cfg.Spec.Seed)
	}
	return sched.Run(ctx, func(ctx context.Context) (pipeline.CycleResult, error) { return p.Cycle(ctx, m) }, func(c pipeline.Cycle) {
		live.beat(time.Now())
		LogCycle(log, c.Result, c.NextIn)
		flushTextfile(log, m, cfg.Textfile)
		if c.Overran {
			log.Warn("cycle overran --every; starting the next one now", "cycle", c.Result.Number, "every", cfg.Every.String())
		}
	})
}

// logStart says what the monitor will do, once everything is bound.
func logStart(log *slog.Logger, cfg Config, listen string) {
	rate := "unlimited"
	if cfg.Spec.Rate > 0 {
		rate = fmt.Sprintf("at most %g/s", cfg.Spec.Rate)
	}
	log.Info("monitoring", "scenario", cfg.Scenario, "targets", pipeline.Targets(cfg.Spec, redact.New()), "every", cfg.Every.String(),
		"session_lifetime", cfg.Lifetime.String(), "listen", listen, "textfile", cfg.Textfile,
		"per_cycle", fmt.Sprintf("%d sessions (+%d control) x %d requests, %s", cfg.Spec.Sessions,
			cfg.Spec.Control(), cfg.Spec.Requests, rate))
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
