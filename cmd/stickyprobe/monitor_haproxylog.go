package main

import (
	"fmt"

	"github.com/stickyprobe/stickyprobe/haplog"
	"github.com/stickyprobe/stickyprobe/monitor"
	"github.com/urfave/cli/v2"
)

func haproxyLogFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "haproxy-log", Category: catLB,
			Usage: "follow HAProxy's HTTP log `FILE` (from its end, across rotation) and export what it says about real users' requests " +
				"as stickyprobe_haproxy_* series next to the probe's"},
		&cli.StringFlag{Name: "haproxy-log-format", Category: catLB,
			Usage: "with --haproxy-log: the frontend's custom log-format `STRING` (it must contain %tsc), when it is not `option httplog`'s"},
	}
}

// haproxyLogFromFlags is what --haproxy-log asks for; a zero Path asks
// for nothing.
func haproxyLogFromFlags(c *cli.Context) (monitor.HAProxyLog, error) {
	cfg := monitor.HAProxyLog{Path: c.String("haproxy-log")}
	if cfg.Path == "" {
		if c.IsSet("haproxy-log-format") {
			return cfg, fmt.Errorf("--haproxy-log-format: only with --haproxy-log")
		}
		return cfg, nil
	}
	var f *haplog.Format
	if s := c.String("haproxy-log-format"); s != "" {
		var err error
		if f, err = haplog.ParseFormat(s); err != nil {
			return cfg, fmt.Errorf("--haproxy-log-format: %v", err)
		}
	}
	cfg.Parser = haplog.NewParser(f, nil)
	return cfg, nil
}
