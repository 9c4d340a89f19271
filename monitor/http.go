package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/stickyprobe/stickyprobe/metrics"
)

// liveness backs /healthz. It fails only when the monitor's loop has made
// no progress for longer than any cycle can take: a dead target is what
// the metrics report, and restarting the probe would not fix it.
type liveness struct {
	stall time.Duration

	mu     sync.Mutex
	last   time.Time // last cycle's end, or the start
	cycles int
}

func newLiveness(stall time.Duration) *liveness {
	return &liveness{stall: stall, last: time.Now()}
}

func (l *liveness) beat(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = now
	l.cycles++
}

// check returns nil while the loop is alive at now.
func (l *liveness) check(now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if idle := now.Sub(l.last); idle > l.stall {
		return fmt.Errorf("stalled: no cycle ended for %v (limit %v)", idle.Round(time.Second), l.stall)
	}
	return nil
}

func (l *liveness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := l.check(time.Now()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, err)
		return
	}
	l.mu.Lock()
	n := l.cycles
	l.mu.Unlock()
	fmt.Fprintf(w, "ok: %d cycles\n", n)
}

// metricsServer is the monitor's HTTP endpoint; nil-safe when disabled.
type metricsServer struct {
	srv *http.Server
	ln  net.Listener
}

// serveMetrics binds addr at once, so a taken port is an error at start,
// not a log line later. An empty addr serves nothing.
func serveMetrics(addr string, m *metrics.Metrics, live *liveness, log *slog.Logger) (*metricsServer, error) {
	if addr == "" {
		return &metricsServer{}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	mux.Handle("/healthz", live)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "stickyprobe monitor: /metrics (Prometheus), /healthz")
	})
	s := &metricsServer{ln: ln, srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return s, nil
}

func (s *metricsServer) addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// shutdown lets a scrape in progress finish, within bounds.
func (s *metricsServer) shutdown(log *slog.Logger) {
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		log.Warn("metrics server shutdown", "err", err)
		s.srv.Close()
	}
}
