package labrun

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
)

// ServeOptions add to what Serve starts and prints.
type ServeOptions struct {
	// Config changes the preset's config before it starts (nil: as is),
	// e.g. to give HAProxy a Runtime API socket.
	Config func(lab.LBConfig) lab.LBConfig
	// Extra prints more ways to use the running node, given the
	// arguments that reach it under Host (--resolve and the URL).
	Extra func(w io.Writer, n lab.Node, target string)
}

// Serve starts preset p in front of its backends, with a loopback
// control endpoint that restarts or reloads it and stops and starts its
// backends, prints how to probe it on w, and keeps it running until ctx
// ends. Failing to start anything is a *CannotRunError.
func Serve(ctx context.Context, p lab.LBPreset, w io.Writer, o ServeOptions) error {
	backends, err := lab.StartBackends(3, p.Backend)
	if err != nil {
		return cannotRun("starting the lab's backends: %v", err)
	}
	defer lab.StopBackends(backends)
	cfg := p.Config
	if o.Config != nil {
		cfg = o.Config(cfg)
	}
	h, err := lab.StartNode(ctx, cfg, backends)
	if err != nil {
		return cannotRun("%v", err)
	}
	defer h.Stop()
	// The control endpoint lets a scenario's exec phase restart or reload
	// this load balancer; loopback only, since it bounces the lab.
	ctl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return cannotRun("control endpoint: %v", err)
	}
	srv := &http.Server{Handler: lab.ControlHandler(h, backends...), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ctl)
	defer srv.Close()
	printServe(w, p, h, "http://"+ctl.Addr().String(), o.Extra)
	<-ctx.Done()
	return nil
}

func printServe(w io.Writer, p lab.LBPreset, h lab.Node, ctlURL string, extra func(io.Writer, lab.Node, string)) {
	port, scheme, insecure := h.Port(), "http", ""
	if strings.HasPrefix(h.URL(), "https:") {
		scheme, insecure = "https", "--insecure " // the lab's own certificate
	}
	resolve := fmt.Sprintf("%s--resolve %s:%d:127.0.0.1", insecure, Host, port)
	hostURL := fmt.Sprintf("%s://%s:%d/", scheme, Host, port)
	target := resolve + " " + hostURL
	fmt.Fprintf(w, "%s (%s: %s) listens on %s\n\n%s\n", KindNames[p.Kind()], p.Name, p.Description, h.URL(), h.Config())
	fmt.Fprintf(w, "Probe it from another terminal:\n   stickyprobe run %s%s\n", insecure, h.URL())
	fmt.Fprintf(w, "or under a real host name, so Domain and Secure cookie rules apply as in production:\n"+
		"   stickyprobe run %s\n", target)
	fmt.Fprintf(w, "Restart or reload it (answers once it proxies again):\n"+
		"   curl -fsS -X POST %s/restart\n   curl -fsS -X POST %s/reload\n", ctlURL, ctlURL)
	fmt.Fprintf(w, "Kill a backend and bring it back, for failover (--on-backend-loss):\n"+
		"   curl -fsS -X POST %s/backends/server1/stop\n   curl -fsS -X POST %s/backends/server1/start\n", ctlURL, ctlURL)
	fmt.Fprintf(w, "so a restart smoke test against it is:\n"+
		"   stickyprobe scenario run --exec 'restart=curl -fsS -X POST %s/restart' %s restart-smoke %s\n",
		ctlURL, resolve, hostURL)
	if hp, ok := h.(*lab.HAProxy); ok && hp.RequestLog() != "" {
		fmt.Fprintf(w, "HAProxy logs every request to %[1]s; what it recorded about each cookie:\n"+
			"   stickyprobe logs %[1]s\n   stickyprobe run --events events.jsonl %[2]s && stickyprobe logs --events events.jsonl %[1]s\n",
			hp.RequestLog(), target)
	}
	if extra != nil {
		extra(w, h, target)
	}
	fmt.Fprint(w, "\nCtrl-C stops it.\n")
}
