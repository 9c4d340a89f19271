package lab

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"
)

// reloadHandoverTimeout bounds how long the old process may take to finish
// its connections (and push its stick tables to its peers) after a reload.
const reloadHandoverTimeout = 10 * time.Second

// Reload hands over to a new haproxy process on the same config and port,
// the way `haproxy -sf OLDPID` (and so `systemctl reload haproxy`) does:
// the new process asks the old one to pause its listeners, binds, then
// tells it to finish its connections and exit. In-memory state such as
// stick tables is lost unless the config has a peers section (Peers): then
// the old process pushes its tables to the new one on the way out, as
// long as it is in sync itself. HAProxy 2.6 measured: a process started
// cold (StartHAProxy, Restart) waits up to 5 s for a peer to teach it and
// hands nothing over before that; one taught by its predecessor can hand
// over at once (see TestReloadKeepsStickTableOnlyWithPeers).
//
// Reload returns once the old process has exited and the new one proxies.
// If the new process fails, the old one resumes its listeners and keeps
// serving, and Reload returns the new one's output.
func (h *HAProxy) Reload(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.proc
	if old == nil || old.exited() {
		return errors.New("haproxy: reload: not running (Restart starts it)")
	}
	path := filepath.Join(h.dir, "haproxy.cfg")
	fmt.Fprintf(h.logs, "--- stickyprobe: reloading haproxy on %s (-sf %d) ---\n", h.Addr(), old.cmd.Process.Pid)
	args := append(h.cfg.args(), "-db", "-f", path, "-sf", strconv.Itoa(old.cmd.Process.Pid))
	logFile, err := h.openHTTPLogLocked(h.cfg)
	if err != nil {
		return fmt.Errorf("haproxy reload: %w", err)
	}
	p, err := startProcess(h.bin, args, h.logs, logFile...)
	closeFiles(logFile)
	if err != nil {
		return fmt.Errorf("haproxy reload: %w", err)
	}
	timer := time.NewTimer(reloadHandoverTimeout)
	defer timer.Stop()
	select {
	case <-old.done:
	case <-p.done:
		return fmt.Errorf("haproxy reload: the new process exited (%v); the old one keeps serving:\n%s", p.err, p.out.String())
	case <-timer.C:
		// The old process holds on to a connection; a real reload would
		// leave it lingering (hard-stop-after), the lab must not.
		if err := old.stop(); err != nil {
			return errors.Join(fmt.Errorf("haproxy reload: old process still running after %s", reloadHandoverTimeout), err, p.stop())
		}
	case <-ctx.Done():
		return errors.Join(ctx.Err(), p.stop())
	}
	h.proc = p // from here on Stop owns the new process, whatever follows
	if err := waitProxying(ctx, p, h.URL(), haproxyReadyTimeout); err != nil {
		return fmt.Errorf("haproxy after reload: %w\n--- haproxy output ---\n%s", err, p.out.String())
	}
	return nil
}
