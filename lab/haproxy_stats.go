package lab

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxStatsSocketPath keeps the socket path well inside the 107 bytes a
// UNIX socket address holds on Linux; HAProxy binds a temporary name a
// little longer than the path (it renames it into place), so a path near
// the limit fails at start with a confusing message.
const maxStatsSocketPath = 100

// statsSocketName is the socket's file name in its private directory.
const statsSocketName = "haproxy.sock"

// statsLine is the global-section line for the Runtime API socket, or ""
// without one. mode 600: only the owner (the lab's user) may talk to it.
func (c HAProxyConfig) statsLine() (string, error) {
	if !c.StatsSocket {
		if c.StatsSocketPath != "" || c.StatsLevel != "" {
			return "", fmt.Errorf("lab: StatsSocketPath/StatsLevel without StatsSocket has no effect")
		}
		return "", nil
	}
	level := c.StatsLevel
	if level == "" {
		level = "operator"
	}
	if level != "operator" && level != "user" {
		return "", fmt.Errorf("lab: StatsLevel %q: want \"operator\" or \"user\" (the lab never hands out admin)", c.StatsLevel)
	}
	p := c.StatsSocketPath
	if rest, ok := strings.CutPrefix(p, "ipv4@"); ok {
		if _, err := loopbackTCP(rest); err != nil {
			return "", err
		}
	} else if p == "" || !filepath.IsAbs(p) || strings.ContainsAny(p, " \t\r\n#'\"\\") || len(p) > maxStatsSocketPath {
		return "", fmt.Errorf("lab: stats socket path %q: want an absolute path of at most %d bytes without spaces or quotes, or ipv4@127.0.0.1:PORT", p, maxStatsSocketPath)
	}
	return fmt.Sprintf("stats socket %s mode 600 level %s", p, level), nil
}

// loopbackTCP checks a stats socket's "ADDR:PORT" is on 127.0.0.0/8: the
// Runtime API must not listen beyond this machine.
func loopbackTCP(hostport string) (string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err == nil {
		ip := net.ParseIP(host)
		n, perr := strconv.Atoi(port)
		if ip != nil && ip.To4() != nil && ip.IsLoopback() && perr == nil && n > 0 && n < 65536 {
			return hostport, nil
		}
	}
	return "", fmt.Errorf("lab: stats socket ipv4@%s: want ipv4@127.x.y.z:PORT (loopback only)", hostport)
}

// newStatsSocketPath makes a private directory for a socket and returns
// the socket's path in it; /tmp keeps it short wherever TMPDIR points.
func newStatsSocketPath() (string, error) {
	base := os.TempDir()
	if len(base) > 40 {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "sp-rt-")
	if err != nil {
		return "", fmt.Errorf("lab: stats socket dir: %w", err)
	}
	return filepath.Join(dir, statsSocketName), nil
}

// ensureStatsSocketDir (re)creates the socket's directory, which Stop
// removes, so a Restart after Stop binds the same path again.
func (c HAProxyConfig) ensureStatsSocketDir() error {
	if !c.StatsSocket || c.StatsSocketPath == "" || strings.HasPrefix(c.StatsSocketPath, "ipv4@") {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(c.StatsSocketPath), 0o700); err != nil {
		return fmt.Errorf("lab: stats socket dir: %w", err)
	}
	return nil
}

// StatsSocket is the Runtime API socket's path, or its ipv4@ADDR:PORT
// when the config asked for TCP ("" when it has none). Like Addr it stays the same across Restart, Reload and
// Reconfigure, so a watcher keeps polling the same address.
func (h *HAProxy) StatsSocket() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.cfg.StatsSocket {
		return ""
	}
	return h.cfg.StatsSocketPath
}

// removeStatsSocketDir removes the socket directory the lab created.
func (h *HAProxy) removeStatsSocketDirLocked() {
	if h.sockDir != "" {
		os.RemoveAll(h.sockDir)
	}
}
