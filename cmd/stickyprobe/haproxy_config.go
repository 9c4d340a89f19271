package main

import (
	"errors"
	"fmt"

	"github.com/stickyprobe/stickyprobe/hacfg"
	"github.com/stickyprobe/stickyprobe/hacheck"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

func haproxyConfigFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "haproxy-config", Category: catDetect,
		Usage: "the haproxy.cfg of the LB probed (repeatable: one per LB node): the report ties each cause to the config lines behind it " +
			"(as `stickyprobe check-config` finds them), names the backend that serves the URL, and --on-backend-loss defaults to what the config implies " +
			"(option redispatch: failover-stay; hashing alone: failover-return)"}
}

// haproxyConfigHook reads --haproxy-config before the run: a config that
// cannot be read stops the run (exit 2, naming file:line); one that can
// sets the default --on-backend-loss and annotates the report.
func haproxyConfigHook(c *cli.Context, spec *scenarios.Spec, out *outputs) error {
	return applyHAProxyConfig(c, c.StringSlice("haproxy-config"), "--haproxy-config", c.IsSet("on-backend-loss"), spec, out)
}

// scenarioHAProxyConfig is haproxyConfigHook for `scenario run`: the
// file's haproxy_config unless --haproxy-config is given; a loss policy
// the file or a flag sets wins over the config's.
func scenarioHAProxyConfig(c *cli.Context, f *scenarios.File, spec *scenarios.Spec, out *outputs) error {
	files, what := c.StringSlice("haproxy-config"), "--haproxy-config"
	if len(files) == 0 {
		files, what = f.HAProxyConfig, fmt.Sprintf("%s:%d: haproxy_config", f.Source, f.HAProxyConfigLine)
	}
	return applyHAProxyConfig(c, files, what, c.IsSet("on-backend-loss") || f.LossPolicySet, spec, out)
}

func applyHAProxyConfig(c *cli.Context, files []string, what string, lossSet bool, spec *scenarios.Spec, out *outputs) error {
	if len(files) == 0 || len(spec.URLs) == 0 {
		return nil
	}
	opts := hacheck.FileOptions{Options: hacheck.Options{Think: spec.Think, Sessions: spec.Sessions}}
	j, err := hacheck.Prepare(c.Context, files, spec.URLs[0], opts)
	var pe *hacfg.Error
	if errors.As(err, &pe) {
		return withCode(exitUsage, "%s: %v", what, pe)
	}
	if err != nil {
		return withCode(exitUsage, "%s: %v", what, err)
	}
	if !lossSet && j.Loss != "" {
		spec.OnBackendLoss = scenarios.LossPolicy(j.Loss)
	}
	out.annotate = j.Annotate
	return nil
}
