package monitor

import (
	"context"
	"log/slog"
	"sync"

	"github.com/stickyprobe/stickyprobe/haplog"
	"github.com/stickyprobe/stickyprobe/metrics"
)

// HAProxyLog is HAProxy's HTTP log to follow beside the cycles; a zero
// Path follows nothing.
type HAProxyLog struct {
	Path   string
	Parser *haplog.Parser // haplog.NewParser(format, nil); required with Path
}

// followHAProxyLog reads the log into m's haproxy series until ctx ends
// or the returned stop is called; a file it cannot open is logged, not
// fatal: the probe's own series matter more.
func followHAProxyLog(ctx context.Context, cfg HAProxyLog, m *metrics.Metrics, log *slog.Logger) (stop func()) {
	if cfg.Path == "" {
		return func() {}
	}
	h := m.HAProxyLog()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	r, err := haplog.Follow(ctx, cfg.Path, true)
	if err != nil {
		log.Error("--haproxy-log not followed", "path", cfg.Path, "err", err)
		cancel()
		return func() {}
	}
	rd := &haplog.Reader{Parser: cfg.Parser, Observe: h.Line, OnChange: h.Change}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer r.Close()
		if err := rd.Read(cfg.Path, r, h.Add); err != nil {
			log.Error("--haproxy-log: reading stopped", "path", cfg.Path, "err", err)
		}
	}()
	log.Info("following HAProxy's log", "path", cfg.Path)
	return func() { cancel(); wg.Wait() }
}
