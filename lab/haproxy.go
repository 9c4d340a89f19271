package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const (
	haproxyReadyTimeout  = 5 * time.Second  // start to first proxied response
	haproxyRebindTimeout = 2 * time.Second  // Restart: the old port may linger briefly
	haproxyCheckTimeout  = 10 * time.Second // `haproxy -c` should take milliseconds
	haproxyPortTries     = 5                // fresh ports tried when the first bind loses a race
	haproxyLogLimit      = 64 << 10         // Logs() keeps the last 64 KiB
)

// ErrHAProxyNotFound is returned by FindHAProxy (and so by StartHAProxy and
// Start) when no haproxy binary is on PATH. Its text tells the user how to
// install one.
var ErrHAProxyNotFound = errors.New("haproxy not found in PATH, /usr/sbin, /usr/local/sbin or /sbin; install it with: " +
	"sudo apt-get install -y haproxy (Debian/Ubuntu), sudo dnf install -y haproxy (Fedora/RHEL), brew install haproxy (macOS)")

// errBindFailed marks a start that failed only because the port was taken,
// which callers handle by retrying (new port on first start, same port on
// restart).
var errBindFailed = errors.New("haproxy could not bind its port")

// sbinDirs are searched after PATH: distributions install haproxy in an
// sbin directory that a normal user's PATH lacks, and "not found" right
// after `apt-get install haproxy` would send users on a wild goose chase.
// A variable so tests can point it at an empty directory.
var sbinDirs = []string{"/usr/sbin", "/usr/local/sbin", "/sbin"}

// FindHAProxy returns the path of the haproxy binary on PATH or in the
// sbin directories, or ErrHAProxyNotFound with install instructions.
func FindHAProxy() (string, error) {
	if path, err := exec.LookPath("haproxy"); err == nil {
		return path, nil
	}
	for _, dir := range sbinDirs {
		path := filepath.Join(dir, "haproxy")
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return path, nil
		}
	}
	return "", ErrHAProxyNotFound
}

// HAProxy is a real haproxy process running in the foreground (-db) with a
// generated config in a private temp dir. It implements LoadBalancer. All
// methods are safe for concurrent use; lifecycle operations are serialized.
type HAProxy struct {
	bin      string
	host     string // the bind address, canonical (loopbackHost); fixed at start
	port     int    // fixed once StartHAProxy returns
	backends []*Backend
	logs     *boundedBuffer

	mu      sync.Mutex
	cfg     HAProxyConfig
	cfgText string   // last rendered config, kept after Stop for display
	dir     string   // temp dir holding haproxy.cfg; "" when stopped
	proc    *process // nil when stopped
	httpLog httpLog  // the HTTP request log (HAProxyConfig.HTTPLog)
	sockDir string   // the stats socket's directory when the lab made it; removed by Stop
}

var _ LoadBalancer = (*HAProxy)(nil)

// StartHAProxy validates cfg with `haproxy -c`, starts haproxy in front of
// backends on cfg.BindAddr (default 127.0.0.1) and cfg.Port (0: a free
// port), and returns once a request through it has reached a backend. A
// fixed port that stays taken for 2 s is an error. The ctx bounds startup
// only.
func StartHAProxy(ctx context.Context, cfg HAProxyConfig, backends []*Backend) (*HAProxy, error) {
	bin, err := FindHAProxy()
	if err != nil {
		return nil, err
	}
	host, err := loopbackHost(cfg.BindAddr)
	if err != nil {
		return nil, err
	}
	if cfg.Peers && cfg.PeersPort == 0 {
		if cfg.PeersPort, err = freePort(); err != nil {
			return nil, err
		}
	}
	var sockDir string
	if cfg.StatsSocket && cfg.StatsSocketPath == "" {
		if cfg.StatsSocketPath, err = newStatsSocketPath(); err != nil {
			return nil, err
		}
		sockDir = filepath.Dir(cfg.StatsSocketPath)
	}
	h, err := startHAProxy(ctx, bin, host, cfg, backends)
	if err != nil && sockDir != "" {
		os.RemoveAll(sockDir)
	}
	if h != nil {
		h.sockDir = sockDir
	}
	return h, err
}

func startHAProxy(ctx context.Context, bin, host string, cfg HAProxyConfig, backends []*Backend) (*HAProxy, error) {
	checkPort := cfg.Port
	if checkPort == 0 {
		checkPort = 1
	}
	if _, err := cfg.Render(checkPort, backends); err != nil {
		return nil, err // a bad config will not get better on another port
	}
	h := &HAProxy{
		bin:      bin,
		host:     host,
		backends: append([]*Backend(nil), backends...),
		logs:     newBoundedBuffer(haproxyLogLimit),
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if cfg.Port != 0 {
		h.port = cfg.Port
		if err := h.startSamePortLocked(ctx, cfg); err != nil {
			return nil, err
		}
		return h, nil
	}
	var lastErr error
	for try := 0; try < haproxyPortTries; try++ {
		port, err := freePortOn(host)
		if err != nil {
			return nil, err
		}
		// Another process can grab the port between freePort and haproxy's
		// bind; that race is the only failure worth retrying.
		if lastErr = h.startLocked(ctx, cfg, port); lastErr == nil {
			h.port = port
			return h, nil
		}
		if !errors.Is(lastErr, errBindFailed) || ctx.Err() != nil {
			return nil, lastErr
		}
	}
	return nil, fmt.Errorf("haproxy: no free port after %d tries: %w", haproxyPortTries, lastErr)
}

// Kind implements LoadBalancer.
func (h *HAProxy) Kind() string { return "haproxy" }

// Port implements LoadBalancer.
func (h *HAProxy) Port() int { return h.port }

// URL implements LoadBalancer: "http://ADDR:PORT/" with the bind address.
func (h *HAProxy) URL() string { return "http://" + h.Addr() + "/" }

// Addr is the frontend's "host:port", e.g. "127.0.0.2:41234"; like Port it
// is stable across Restart, Reload and Reconfigure.
func (h *HAProxy) Addr() string { return hostPort(h.host, h.port) }

// Logs implements LoadBalancer: haproxy's output across all runs, with a
// marker line before each start, bounded to the last 64 KiB.
func (h *HAProxy) Logs() string { return h.logs.String() }

// Config returns the rendered haproxy.cfg currently (or last) in use.
func (h *HAProxy) Config() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cfgText
}

// Running reports whether the haproxy process is alive.
func (h *HAProxy) Running() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.proc != nil && !h.proc.exited()
}

// Stop terminates haproxy (SIGTERM, then SIGKILL after 3 s), reaps it and
// removes its temp dir. It is idempotent.
func (h *HAProxy) Stop() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	defer h.closeHTTPLogLocked()
	err := h.stopLocked()
	if err == nil {
		h.removeStatsSocketDirLocked()
	}
	return err
}

// Restart stops haproxy and starts it again with the same config on the
// same port, losing in-memory state such as stick tables. It also brings
// back a stopped instance.
func (h *HAProxy) Restart(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.stopLocked(); err != nil {
		return err
	}
	return h.startSamePortLocked(ctx, h.cfg)
}

// Reconfigure switches to cfg on the same address and port: an empty
// BindAddr or zero Port in cfg keeps the current ones, a different one is
// an error. The new config is checked with `haproxy -c` before the running
// instance is stopped, so a bad config leaves the old one serving.
func (h *HAProxy) Reconfigure(ctx context.Context, cfg HAProxyConfig) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cfg.BindAddr == "" && h.host != defaultBindAddr {
		cfg.BindAddr = h.host
	}
	host, err := loopbackHost(cfg.BindAddr)
	if err != nil {
		return err
	}
	port := cfg.Port
	if port == 0 {
		port = h.port
	}
	if host != h.host || port != h.port {
		return fmt.Errorf("lab: Reconfigure keeps haproxy on %s; cannot move it to %s (start another one)",
			h.Addr(), hostPort(host, port))
	}
	if cfg.Peers && cfg.PeersPort == 0 {
		cfg.PeersPort = h.cfg.PeersPort // keep the port a running peer may be using
		if cfg.PeersPort == 0 {
			if cfg.PeersPort, err = freePort(); err != nil {
				return err
			}
		}
	}
	if cfg.StatsSocket && cfg.StatsSocketPath == "" {
		if cfg.StatsSocketPath = h.cfg.StatsSocketPath; cfg.StatsSocketPath == "" {
			if cfg.StatsSocketPath, err = newStatsSocketPath(); err != nil {
				return err
			}
			h.sockDir = filepath.Dir(cfg.StatsSocketPath)
		}
	}
	text, err := cfg.Render(h.port, h.backends)
	if err != nil {
		return err
	}
	dir, path, err := writeConfig(text)
	if err != nil {
		return err
	}
	err = h.check(ctx, path, text, cfg)
	os.RemoveAll(dir)
	if err != nil {
		return err
	}
	if err := h.stopLocked(); err != nil {
		return err
	}
	return h.startSamePortLocked(ctx, cfg)
}

func (h *HAProxy) stopLocked() error {
	if h.proc == nil {
		return nil
	}
	err := h.proc.stop()
	if err == nil {
		h.proc = nil
	}
	if h.dir != "" {
		os.RemoveAll(h.dir)
		h.dir = ""
	}
	return err
}

// startSamePortLocked retries the bind for a short while, since the port
// we just released can stay busy for a moment.
func (h *HAProxy) startSamePortLocked(ctx context.Context, cfg HAProxyConfig) error {
	deadline := time.Now().Add(haproxyRebindTimeout)
	for {
		err := h.startLocked(ctx, cfg, h.port)
		if err == nil || !errors.Is(err, errBindFailed) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startLocked renders, validates and starts one haproxy run on port and
// waits until it proxies. On failure nothing is left running or on disk.
func (h *HAProxy) startLocked(ctx context.Context, cfg HAProxyConfig, port int) error {
	// Own the extra lines: Restart re-renders cfg, and a caller mutating its
	// slice afterwards must not change what a restart runs.
	cfg.BackendLines = append([]string(nil), cfg.BackendLines...)
	text, err := cfg.Render(port, h.backends)
	if err != nil {
		return err
	}
	dir, path, err := writeConfig(text)
	if err != nil {
		return err
	}
	if err := h.check(ctx, path, text, cfg); err != nil {
		os.RemoveAll(dir)
		return err
	}
	if err := cfg.ensureStatsSocketDir(); err != nil {
		os.RemoveAll(dir)
		return err
	}
	addr := hostPort(h.host, port)
	fmt.Fprintf(h.logs, "--- stickyprobe: starting haproxy on %s ---\n", addr)
	logFile, err := h.openHTTPLogLocked(cfg)
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	p, err := startProcess(h.bin, append(cfg.args(), "-db", "-f", path), h.logs, logFile...)
	closeFiles(logFile)
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("haproxy: %w", err)
	}
	url := "http://" + addr + "/"
	if err := waitProxying(ctx, p, url, haproxyReadyTimeout); err != nil {
		stopErr := p.stop()
		os.RemoveAll(dir)
		out := p.out.String()
		if strings.Contains(out, "cannot bind socket") {
			return fmt.Errorf("%w %s:\n%s", errBindFailed, addr, out)
		}
		return errors.Join(fmt.Errorf("haproxy on %s: %w\n--- haproxy output ---\n%s", addr, err, out), stopErr)
	}
	h.proc, h.dir, h.cfg, h.cfgText = p, dir, cfg, text
	return nil
}

// check runs `haproxy -c` so config mistakes surface as HAProxy's own
// message rather than as a process that exits or never gets ready.
func (h *HAProxy) check(ctx context.Context, path, text string, cfg HAProxyConfig) error {
	ctx, cancel := context.WithTimeout(ctx, haproxyCheckTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, h.bin, append(cfg.args(), "-c", "-f", path)...).CombinedOutput()
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("haproxy -c: %w", ctx.Err()) // not the config's fault
	}
	if err != nil {
		return fmt.Errorf("haproxy rejected the generated config (%v):\n%s\n--- config ---\n%s",
			err, strings.TrimSpace(string(out)), text)
	}
	return nil
}

// args are the command-line options a config needs besides -f: the local
// peer's name when there is a peers section.
func (c HAProxyConfig) args() []string {
	if c.Peers {
		return []string{"-L", localPeer}
	}
	return nil
}

// writeConfig puts text into haproxy.cfg in a fresh private temp dir.
func writeConfig(text string) (dir, path string, err error) {
	dir, err = os.MkdirTemp("", "stickyprobe-haproxy-")
	if err != nil {
		return "", "", fmt.Errorf("haproxy: config dir: %w", err)
	}
	path = filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", "", fmt.Errorf("haproxy: write config: %w", err)
	}
	return dir, path, nil
}
