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

// Node is a load balancer the lab runs as a real process: besides what
// LoadBalancer offers it can be reloaded the way its own tooling does it,
// and it shows the config it runs. HAProxy and Proc (nginx, Caddy,
// Apache) are Nodes.
type Node interface {
	LoadBalancer
	Reload(ctx context.Context) error // the kind's graceful reload; the port stays open
	Config() string                   // the config text in use (or last used)
}

// LBConfig is one load balancer's lab config: HAProxyConfig, NginxConfig,
// CaddyConfig or ApacheConfig. StartNode starts the right process for it.
type LBConfig interface {
	// LBKind names the load balancer: "haproxy", "nginx", "caddy", "apache".
	LBKind() string
}

// LBKind implements LBConfig.
func (HAProxyConfig) LBKind() string { return "haproxy" }

// StartNode starts the load balancer cfg describes in front of backends.
// The ctx bounds startup only.
func StartNode(ctx context.Context, cfg LBConfig, backends []*Backend) (Node, error) {
	switch c := cfg.(type) {
	case HAProxyConfig:
		return StartHAProxy(ctx, c, backends)
	case NginxConfig:
		return StartNginx(ctx, c, backends)
	case CaddyConfig:
		return StartCaddy(ctx, c, backends)
	case ApacheConfig:
		return StartApache(ctx, c, backends)
	case nil:
		return nil, errors.New("lab: no load balancer config")
	}
	return nil, fmt.Errorf("lab: unknown load balancer config %T", cfg)
}

const (
	procReadyTimeout  = 10 * time.Second // start to first proxied response; Apache and Caddy take longer than HAProxy
	procCheckTimeout  = 15 * time.Second // the kind's config check
	procReloadTimeout = 10 * time.Second // a reload until the new config serves
	procRebindTimeout = 3 * time.Second  // Restart: the old port may linger briefly
	procPortTries     = 5
	procLogLimit      = 64 << 10
)

// flavor is what one load balancer kind adds to Proc's process handling:
// its binary, its config, its check, run and reload commands.
type flavor interface {
	kind() string
	tls() bool // the frontend speaks https
	find() (string, error)
	// render returns the config text for a frontend on host:port, to be
	// written to dir/name().
	render(dir, host string, port int, backends []*Backend) (string, error)
	name() string // the config file's name, e.g. "nginx.conf"
	checkArgs(dir, path string) []string
	runArgs(dir, path string) []string
	env(dir string) []string
	// reload asks the running process p (config at path) to reload and
	// returns once the new configuration serves, or an error.
	reload(ctx context.Context, bin, dir, path string, p *process) error
}

// Proc is a real nginx, Caddy or Apache process running in the foreground
// with a generated config in a private temp dir. It implements Node. All
// methods are safe for concurrent use; lifecycle operations are serialized.
type Proc struct {
	fl       flavor
	bin      string
	host     string
	port     int
	backends []*Backend
	logs     *boundedBuffer

	mu      sync.Mutex
	cfgText string
	dir     string   // temp dir holding the config; "" when stopped
	proc    *process // nil when stopped
}

var _ Node = (*Proc)(nil)

// startProc starts fl's server on bindAddr:port (0: a free port),
// retrying fresh ports when the first bind loses a race.
func startProc(ctx context.Context, fl flavor, bindAddr string, port int, backends []*Backend) (*Proc, error) {
	bin, err := fl.find()
	if err != nil {
		return nil, err
	}
	host, err := loopbackHost(bindAddr)
	if err != nil {
		return nil, err
	}
	if len(backends) == 0 {
		return nil, fmt.Errorf("lab: %s needs at least one backend", fl.kind())
	}
	p := &Proc{fl: fl, bin: bin, host: host, backends: append([]*Backend(nil), backends...), logs: newBoundedBuffer(procLogLimit)}
	p.mu.Lock()
	defer p.mu.Unlock()
	if port != 0 {
		p.port = port
		return p, p.startSamePortLocked(ctx)
	}
	var lastErr error
	for try := 0; try < procPortTries; try++ {
		if p.port, err = freePortOn(host); err != nil {
			return nil, err
		}
		if lastErr = p.startLocked(ctx); lastErr == nil {
			return p, nil
		}
		if !errors.Is(lastErr, errBindFailed) || ctx.Err() != nil {
			return nil, lastErr
		}
	}
	return nil, fmt.Errorf("%s: no free port after %d tries: %w", fl.kind(), procPortTries, lastErr)
}

// Kind implements LoadBalancer.
func (p *Proc) Kind() string { return p.fl.kind() }

// Port implements LoadBalancer.
func (p *Proc) Port() int { return p.port }

// Addr is the frontend's "host:port".
func (p *Proc) Addr() string { return hostPort(p.host, p.port) }

// URL implements LoadBalancer: https:// for a TLS frontend (CaddyConfig.TLS).
func (p *Proc) URL() string {
	if p.fl.tls() {
		return "https://" + p.Addr() + "/"
	}
	return "http://" + p.Addr() + "/"
}

// Logs implements LoadBalancer: the server's output across all runs.
func (p *Proc) Logs() string { return p.logs.String() }

// Config implements Node.
func (p *Proc) Config() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfgText
}

// Running reports whether the server process is alive.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.proc != nil && !p.proc.exited()
}

// Stop terminates the server (SIGTERM, then SIGKILL), reaps it and removes
// its temp dir. It is idempotent.
func (p *Proc) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopLocked()
}

// Restart stops the server and starts it again on the same port: a full
// restart, losing whatever it keeps in memory.
func (p *Proc) Restart(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.stopLocked(); err != nil {
		return err
	}
	return p.startSamePortLocked(ctx)
}

// Reload implements Node with the kind's own reload: `nginx -s reload`,
// `caddy reload`, `apache2 -k graceful` (what `apachectl graceful` runs).
func (p *Proc) Reload(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil || p.proc.exited() {
		return fmt.Errorf("%s: reload: not running (Restart starts it)", p.fl.kind())
	}
	fmt.Fprintf(p.logs, "--- stickyprobe: reloading %s on %s ---\n", p.fl.kind(), p.Addr())
	ctx, cancel := context.WithTimeout(ctx, procReloadTimeout)
	defer cancel()
	path := filepath.Join(p.dir, p.fl.name())
	if err := p.fl.reload(ctx, p.bin, p.dir, path, p.proc); err != nil {
		return fmt.Errorf("%s reload: %w\n--- output ---\n%s", p.fl.kind(), err, p.proc.out.String())
	}
	if err := waitProxying(ctx, p.proc, p.URL(), procReadyTimeout); err != nil {
		return fmt.Errorf("%s after reload: %w\n--- output ---\n%s", p.fl.kind(), err, p.proc.out.String())
	}
	return nil
}

func (p *Proc) stopLocked() error {
	if p.proc == nil {
		return nil
	}
	err := p.proc.stop()
	if err == nil {
		p.proc = nil
	}
	if p.dir != "" {
		os.RemoveAll(p.dir)
		p.dir = ""
	}
	return err
}

func (p *Proc) startSamePortLocked(ctx context.Context) error {
	deadline := time.Now().Add(procRebindTimeout)
	for {
		err := p.startLocked(ctx)
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

// startLocked renders, checks and starts one run on p.port and waits until
// it proxies. On failure nothing is left running or on disk.
func (p *Proc) startLocked(ctx context.Context) error {
	kind := p.fl.kind()
	dir, err := os.MkdirTemp("", "stickyprobe-"+kind+"-")
	if err != nil {
		return fmt.Errorf("%s: config dir: %w", kind, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	// The server may drop privileges (nginx workers, Apache children run
	// as nobody when started by root): they must reach their files.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	text, err := p.fl.render(dir, p.host, p.port, p.backends)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, p.fl.name())
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return fmt.Errorf("%s: write config: %w", kind, err)
	}
	if err := p.check(ctx, dir, path, text); err != nil {
		return err
	}
	fmt.Fprintf(p.logs, "--- stickyprobe: starting %s on %s ---\n", kind, p.Addr())
	proc, err := startProcessEnv(p.bin, p.fl.runArgs(dir, path), p.fl.env(dir), p.logs)
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	if err := waitProxying(ctx, proc, p.URL(), procReadyTimeout); err != nil {
		stopErr := proc.stop()
		out := proc.out.String()
		if strings.Contains(out, "already in use") {
			return fmt.Errorf("%w %s (%s):\n%s", errBindFailed, p.Addr(), kind, out)
		}
		return errors.Join(fmt.Errorf("%s on %s: %w\n--- %s output ---\n%s", kind, p.Addr(), err, kind, out), stopErr)
	}
	ok = true
	p.proc, p.dir, p.cfgText = proc, dir, text
	return nil
}

// check runs the kind's config check so a mistake surfaces as the tool's
// own message rather than as a process that never gets ready.
func (p *Proc) check(ctx context.Context, dir, path, text string) error {
	ctx, cancel := context.WithTimeout(ctx, procCheckTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, p.fl.checkArgs(dir, path)...)
	cmd.Env = append(os.Environ(), p.fl.env(dir)...)
	out, err := cmd.CombinedOutput()
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%s config check: %w", p.fl.kind(), ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("%s rejected the generated config (%v):\n%s\n--- config ---\n%s",
			p.fl.kind(), err, strings.TrimSpace(string(out)), text)
	}
	return nil
}

// findBinary looks name up on PATH, then in the sbin directories, and
// returns notFound when it is in neither.
func findBinary(name string, notFound error) (string, error) {
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	for _, dir := range sbinDirs {
		path := filepath.Join(dir, name)
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return path, nil
		}
	}
	return "", notFound
}

// runTool runs a short command of the kind's tooling (a check, a reload
// signal) bounded by ctx, and returns its output in the error.
func runTool(ctx context.Context, bin string, args, env []string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// waitLogCount waits until marker has appeared in p's output more than
// before times: how a signal-driven reload says it is done.
func waitLogCount(ctx context.Context, p *process, marker string, before int) error {
	for strings.Count(p.out.String(), marker) <= before {
		if p.exited() {
			return fmt.Errorf("%w (%v)", errExited, p.err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no %q in the output: %w", marker, ctx.Err())
		case <-time.After(readyPoll):
		}
	}
	return nil
}

// FindLB finds the binary of a load balancer kind ("haproxy", "nginx",
// "caddy", "apache"), or returns that kind's not-found error with install
// instructions.
func FindLB(kind string) (string, error) {
	switch kind {
	case "haproxy":
		return FindHAProxy()
	case "nginx":
		return FindNginx()
	case "caddy":
		return FindCaddy()
	case "apache":
		return FindApache()
	}
	return "", fmt.Errorf("lab: unknown load balancer kind %q", kind)
}
