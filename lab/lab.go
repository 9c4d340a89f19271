package lab

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// defaultBackends is the usual three-server setup of persistence tutorials.
const defaultBackends = 3

// LoadBalancer is what the probe targets. It is an interface so other kinds
// (nginx, Caddy, Apache) can be added without touching callers.
type LoadBalancer interface {
	Kind() string                      // e.g. "haproxy"
	URL() string                       // "http://ADDR:PORT/", ADDR in 127.0.0.0/8 (127.0.0.1 by default)
	Port() int                         // the frontend port; stable across Restart
	Restart(ctx context.Context) error // full stop + start on the same port; in-memory state (stick tables) is lost
	Stop() error                       // idempotent
	Logs() string                      // captured stdout+stderr (last 64 KiB)
}

// Options describes a lab: how many backends and how the load balancer in
// front of them is configured.
type Options struct {
	Backends int            // default 3; names are "server1".."serverN"
	Backend  BackendOptions // applied to every backend
	HAProxy  HAProxyConfig
	// LB, if set, is the load balancer to start instead of HAProxy
	// (NginxConfig, CaddyConfig, ApacheConfig, or an HAProxyConfig).
	LB LBConfig
}

// Lab bundles the backends and the load balancer in front of them, plus
// any further nodes AddNode put in front of the same backends.
type Lab struct {
	Backends []*Backend
	LB       LoadBalancer

	mu     sync.Mutex
	closed bool
	extra  []Node // started by AddNode and AddLB, stopped by Close
}

// Start starts the backends, then HAProxy (or opts.LB) in front of them, and returns once
// requests flow end to end. On error everything already started is stopped.
func Start(ctx context.Context, opts Options) (*Lab, error) {
	n := opts.Backends
	if n < 0 {
		return nil, fmt.Errorf("lab: Backends=%d must not be negative", n)
	}
	if n == 0 {
		n = defaultBackends
	}
	var cfg LBConfig = opts.HAProxy
	if opts.LB != nil {
		cfg = opts.LB
	}
	// Check for the binary first so a missing one costs nothing and the
	// install hint is the error the user sees.
	if _, err := FindLB(cfg.LBKind()); err != nil {
		return nil, err
	}
	backends, err := StartBackends(n, opts.Backend)
	if err != nil {
		return nil, err
	}
	l := &Lab{Backends: backends}
	lb, err := StartNode(ctx, cfg, l.Backends)
	if err != nil {
		return nil, errors.Join(err, l.Close())
	}
	l.LB = lb
	return l, nil
}

// AddNode starts another HAProxy node in front of the lab's backends, the
// way a site runs several LB nodes: give it a CookiePrefix so the nodes
// disagree about cookie values, or a BindAddr such as 127.0.0.2 with Port
// set to l.LB.Port() so the nodes share a port on two addresses. The
// node's own Stop, Restart and Reconfigure work as usual; Close stops it
// with the rest of the lab. The ctx bounds startup only. AddNode after
// Close is an error.
func (l *Lab) AddNode(ctx context.Context, cfg HAProxyConfig) (*HAProxy, error) {
	n, err := l.AddLB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return n.(*HAProxy), nil
}

// AddLB is AddNode for any kind of load balancer: nginx, Caddy or Apache
// nodes in front of the lab's backends, e.g. two Caddy nodes with
// different cookie secrets.
func (l *Lab) AddLB(ctx context.Context, cfg LBConfig) (Node, error) {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return nil, errors.New("lab: AddNode on a closed lab")
	}
	// Start outside the lock so a slow start does not hold up Close.
	h, err := StartNode(ctx, cfg, l.Backends)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed { // closed while starting: the caller must not get a node Close missed
		return nil, errors.Join(errors.New("lab: closed while AddNode was starting a node"), h.Stop())
	}
	l.extra = append(l.extra, h)
	return h, nil
}

// Nodes returns the lab's load balancers: LB first, then the nodes AddNode
// started, in order.
func (l *Lab) Nodes() []LoadBalancer {
	l.mu.Lock()
	defer l.mu.Unlock()
	var nodes []LoadBalancer
	if l.LB != nil {
		nodes = append(nodes, l.LB)
	}
	for _, h := range l.extra {
		nodes = append(nodes, h)
	}
	return nodes
}

// Backend returns the backend called name (as seen in X-Backend), or nil.
func (l *Lab) Backend(name string) *Backend {
	for _, b := range l.Backends {
		if b.Name() == name {
			return b
		}
	}
	return nil
}

// Close stops the load balancers (LB and AddNode's) and every backend. It is idempotent and
// safe to call concurrently (e.g. from a test cleanup).
func (l *Lab) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	for _, h := range l.extra {
		errs = append(errs, h.Stop())
	}
	if l.LB != nil {
		errs = append(errs, l.LB.Stop())
	}
	for _, b := range l.Backends {
		errs = append(errs, b.Stop())
	}
	return errors.Join(errs...)
}
