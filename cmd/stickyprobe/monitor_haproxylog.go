package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/stickyprobe/stickyprobe/haplog"
	"github.com/stickyprobe/stickyprobe/metrics"
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

// haproxyLogConfig is what --haproxy-log asks for; a zero path asks for
// nothing.
type haproxyLogConfig struct {
	path   string
	parser *haplog.Parser
}

func haproxyLogFromFlags(c *cli.Context) (haproxyLogConfig, error) {
	cfg := haproxyLogConfig{path: c.String("haproxy-log")}
	if cfg.path == "" {
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
	cfg.parser = haplog.NewParser(f, nil)
	return cfg, nil
}

// followHAProxyLog reads the log into m's haproxy series until ctx ends
// or the returned stop is called; a file it cannot open is logged, not
// fatal: the probe's own series matter more.
func followHAProxyLog(ctx context.Context, cfg haproxyLogConfig, m *metrics.Metrics, log *slog.Logger) (stop func()) {
	if cfg.path == "" {
		return func() {}
	}
	h := m.HAProxyLog()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	r, err := haplog.Follow(ctx, cfg.path, true)
	if err != nil {
		log.Error("--haproxy-log not followed", "path", cfg.path, "err", err)
		cancel()
		return func() {}
	}
	rd := &haplog.Reader{Parser: cfg.parser, Observe: h.Line, OnChange: h.Change}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer r.Close()
		if err := rd.Read(cfg.path, r, h.Add); err != nil {
			log.Error("--haproxy-log: reading stopped", "path", cfg.path, "err", err)
		}
	}()
	log.Info("following HAProxy's log", "path", cfg.path)
	return func() { cancel(); wg.Wait() }
}
