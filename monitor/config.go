package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

// Config is one monitor: the spec of each cycle and how cycles are run,
// served and logged. Its fields are the `stickyprobe monitor` flags of
// the same names, which the errors of Check and Fit name.
type Config struct {
	Spec        scenarios.Spec
	Scenario    string        // --scenario-label: the scenario label on every metric
	Every       time.Duration // --every: from one cycle's start to the next's
	Jitter      float64       // --jitter: each wait spread by up to this fraction of Every
	Lifetime    time.Duration // --session-lifetime: keep sessions across cycles this long; 0: fresh each cycle
	Listen      string        // --listen: serve /metrics and /healthz here; "": serve nothing
	Textfile    string        // --prom-textfile: write the metrics here after each cycle; "": none
	MaxBackends int           // --max-backends: distinct backend label values
	Cycles      int           // --cycles: stop after this many; 0: until ctx ends
	LogFormat   string        // --log-format: text or json
	Version     string        // the prober's version, on the metrics
	HAProxyLog  HAProxyLog    // --haproxy-log: follow HAProxy's log beside the cycles
	// Watch, if set, starts a watch of the load balancer's own view (the
	// command's HAProxy Runtime API watch) that logs on log for the
	// monitor's life; stop is called when it ends. Its error is Run's,
	// as it is.
	Watch func(ctx context.Context, log *slog.Logger) (stop func(), err error)
}

// MinEvery keeps a typo (--every 1ms) from turning the monitor into a
// load test; tests use a few hundred milliseconds.
const MinEvery = 100 * time.Millisecond

// Check refuses settings out of range, naming the flag, and a textfile
// whose directory cannot be written, before any request.
func (cfg Config) Check() error {
	switch {
	case cfg.Every < MinEvery:
		return fmt.Errorf("--every %v: want at least %v", cfg.Every, MinEvery)
	case cfg.Jitter < 0 || cfg.Jitter > 0.5:
		return fmt.Errorf("--jitter %v: want 0..0.5", cfg.Jitter)
	case cfg.Lifetime < 0:
		return fmt.Errorf("--session-lifetime %v: want 0 or more", cfg.Lifetime)
	case cfg.Scenario == "":
		return fmt.Errorf("--scenario-label: want a name")
	case cfg.MaxBackends < 1:
		return fmt.Errorf("--max-backends %d: want at least 1", cfg.MaxBackends)
	case cfg.Cycles < 0:
		return fmt.Errorf("--cycles %d: want 0 (forever) or more", cfg.Cycles)
	case cfg.LogFormat != "text" && cfg.LogFormat != "json":
		return fmt.Errorf("--log-format %q: want text or json", cfg.LogFormat)
	}
	if cfg.Listen != "" {
		if _, _, err := net.SplitHostPort(cfg.Listen); err != nil {
			return fmt.Errorf("--listen %q: %v", cfg.Listen, err)
		}
	}
	return checkTextfileDir(cfg.Textfile)
}

// Fit makes the spec's cycle fit the schedule: cycles never overlap, and
// one must not outlast Every, so MaxDuration and a scenario's timed
// phases (soak's ten minutes) are cut to it. The spec is validated again,
// and a plan that cannot be sent within a cycle is refused: every cycle
// would be cut, and judged on what the cut left.
func (cfg *Config) Fit() error {
	cfg.Spec.MaxDuration = min(cfg.Spec.MaxDuration, cfg.Every)
	for i := range cfg.Spec.Phases {
		if p := &cfg.Spec.Phases[i]; p.Duration > cfg.Spec.MaxDuration {
			p.Duration = cfg.Spec.MaxDuration
		}
	}
	if err := cfg.Spec.Validate(); err != nil {
		return fmt.Errorf("--every %v: %w", cfg.Every, err)
	}
	return checkPlan(cfg.Spec, cfg.Every)
}

// checkPlan refuses a monitor whose cycle cannot send its plan within
// --every (or --max-duration): every cycle would be cut, and judged on
// what the cut left.
func checkPlan(spec scenarios.Spec, every time.Duration) error {
	budget, flag := every, "--every"
	if spec.MaxDuration < every {
		budget, flag = spec.MaxDuration, "--max-duration"
	}
	if msg := pipeline.PlanMisfit(spec, budget, flag); msg != "" {
		return fmt.Errorf("%s", msg)
	}
	return nil
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
