package main

import (
	"fmt"

	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

// The report command can judge saved events again with other thresholds
// ("what if strict?"); the flags are run's, without defaults: a flag not
// given keeps the live run's value.

func rejudgeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.Float64Flag{Name: "min-stickiness", Category: catVerdict, Usage: "judge again: fraction of judged sessions that must stay on their backend (default: the live run's)"},
		&cli.Float64Flag{Name: "max-error-rate", Category: catVerdict, Usage: "judge again: fraction of requests allowed to fail (default: the live run's)"},
		&cli.StringFlag{Name: "on-backend-loss", Category: catVerdict, Usage: "judge again: strict, failover-stay or failover-return (default: the live run's)"},
		&cli.IntFlag{Name: "min-backends", Category: catVerdict, Usage: "judge again: backends the sessions must be pinned to, -1 automatic, 0 no check (default: the live run's)"},
		&cli.Float64Flag{Name: "max-imbalance", Category: catVerdict, Usage: "judge again: largest backend's share ÷ a fair share, 0 no check (default: the live run's)"},
	}
}

// rejudge applies the re-judge flags given to rp; none given leaves the
// live run's thresholds, and the report as the run printed it.
func rejudge(c *cli.Context, rp *report.Replay) error {
	o := rp.Options()
	given := false
	for _, name := range []string{"min-stickiness", "max-error-rate", "on-backend-loss", "min-backends", "max-imbalance"} {
		given = given || c.IsSet(name)
	}
	if !given {
		return nil
	}
	if c.IsSet("on-backend-loss") {
		p, err := scenarios.ParseLossPolicy(c.String("on-backend-loss"))
		if err != nil {
			return fmt.Errorf("--on-backend-loss: %w", err)
		}
		o.OnBackendLoss = report.LossPolicy(p)
	}
	for name, dst := range map[string]*float64{"min-stickiness": &o.MinStickiness, "max-error-rate": &o.MaxErrorRate} {
		if c.IsSet(name) {
			if v := c.Float64(name); !(v >= 0 && v <= 1) {
				return fmt.Errorf("--%s %g: want a fraction between 0 and 1", name, v)
			}
			*dst = c.Float64(name)
		}
	}
	if c.IsSet("min-backends") {
		if o.MinBackends = c.Int("min-backends"); o.MinBackends < -1 {
			return fmt.Errorf("--min-backends %d: want -1 (automatic), 0 (no check) or a count", o.MinBackends)
		}
	}
	if c.IsSet("max-imbalance") {
		if o.MaxImbalance = c.Float64("max-imbalance"); !(o.MaxImbalance == 0 || o.MaxImbalance >= 1) {
			return fmt.Errorf("--max-imbalance %g: want 0 (no check) or a ratio of at least 1", o.MaxImbalance)
		}
	}
	rp.Rejudge(o)
	return nil
}
