package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stickyprobe/stickyprobe/hacfg"
	"github.com/stickyprobe/stickyprobe/hacheck"
	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

func haproxyConfigFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "haproxy-config", Category: catLB,
		Usage: "the haproxy.cfg `FILE` of the LB probed (repeatable: one per LB node): the report ties each cause to the config lines behind it " +
			"(as stickyprobe check-config finds them), names the backend that serves the URL, and --on-backend-loss defaults to what the config implies " +
			"(option redispatch: failover-stay; hashing alone: failover-return)"}
}

// haproxyConfigHook reads the HAProxy config before the run: for `run`
// --haproxy-config, for `scenario run` the flag or else the file's
// haproxy_config. A config that cannot be read stops the run (exit 2,
// naming file:line); one that can sets the default --on-backend-loss (a
// flag or the file's expect.on_backend_loss wins) and annotates the
// report.
func haproxyConfigHook(c *cli.Context, f *scenarios.File, spec *scenarios.Spec, opts *pipeline.Options) error {
	files, what := c.StringSlice("haproxy-config"), "--haproxy-config"
	lossSet := c.IsSet("on-backend-loss")
	if f != nil {
		lossSet = lossSet || f.LossPolicySet
		if len(files) == 0 {
			files, what = f.HAProxyConfig, fmt.Sprintf("%s:%d: haproxy_config", f.Source, f.HAProxyConfigLine)
		}
	}
	if len(files) == 0 || len(spec.URLs) == 0 {
		return nil
	}
	fo := hacheck.FileOptions{Options: hacheck.Options{Think: spec.Think, Sessions: spec.Sessions}}
	fo.Host = hostHeader(*spec)
	j, err := hacheck.Prepare(c.Context, files, spec.URLs[0], fo)
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
	opts.Annotate = append(opts.Annotate, j.ReportJoin().Apply)
	return nil
}

// hostHeader is the Host a --header Host: gives, "" for the URL's:
// HAProxy's hdr(host) ACLs and the cookie domain read that.
func hostHeader(spec scenarios.Spec) string {
	host := ""
	for _, h := range spec.Headers {
		if strings.EqualFold(h.Name, "Host") {
			host = h.Value
		}
	}
	return host
}
