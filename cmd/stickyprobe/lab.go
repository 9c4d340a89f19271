package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

// labHost is the host name the lab's frontends are probed under. A real
// name, resolved to 127.0.0.1 the way curl --resolve does, because a
// cookie jar treats loopback addresses as secure origins and refuses
// Domain attributes on IP addresses: the domain and secure mistakes would
// not show on 127.0.0.1.
const labHost = "lab.stickyprobe.test"

func labCommand() *cli.Command {
	var names []string
	for _, p := range lab.Presets() {
		names = append(names, p.Name)
	}
	return &cli.Command{
		Name:  "lab",
		Usage: "run the probe against a real HAProxy on 127.0.0.1 with the textbook config and classic mistakes",
		Description: "Starts three HTTP backends and, one after the other, a real haproxy in front of them with\n" +
			"each of these configs, probes it, and shows the verdicts side by side:\n\n   " +
			strings.Join(names, ", ") + "\n\n" +
			"Everything listens on 127.0.0.1 and stops when the command ends. Needs haproxy\n" +
			"(Debian/Ubuntu: sudo apt-get install -y haproxy).\n\n" +
			"Examples:\n" +
			"   stickyprobe lab                          all configs, side by side\n" +
			"   stickyprobe lab --config no-server-cookie --details\n" +
			"   stickyprobe lab --serve textbook          keep one running and probe it yourself",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "config", Usage: "only these configs (repeatable; default all)"},
			&cli.BoolFlag{Name: "details", Usage: "print the full report of every config"},
			&cli.BoolFlag{Name: "show-config", Usage: "print each generated haproxy.cfg"},
			&cli.StringFlag{Name: "serve", Usage: "start config `NAME`, print its URL and keep it running until Ctrl-C"},
			&cli.IntFlag{Name: "sessions", Value: 30, Usage: "sessions per config"},
			&cli.IntFlag{Name: "requests", Value: 6, Usage: "requests per session"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print every request"},
		},
		Action: func(c *cli.Context) error {
			if _, err := lab.FindHAProxy(); err != nil {
				return withCode(exitCannotRun, "%v", err)
			}
			if name := c.String("serve"); name != "" {
				return serveLab(c.Context, name, c.App.Writer)
			}
			presets, err := selectPresets(c.StringSlice("config"))
			if err != nil {
				return err
			}
			return runLab(c, presets)
		},
	}
}

func selectPresets(names []string) ([]lab.Preset, error) {
	if len(names) == 0 {
		return lab.Presets(), nil
	}
	var out []lab.Preset
	for _, n := range names {
		p, ok := lab.PresetByName(n)
		if !ok {
			return nil, fmt.Errorf("--config %q: unknown; see `stickyprobe lab --help` for the list", n)
		}
		out = append(out, p)
	}
	return out, nil
}

// startBackends starts the lab's three backends; stop releases them.
func startBackends(opts lab.BackendOptions) (backends []*lab.Backend, stop func(), err error) {
	stop = func() {
		for _, b := range backends {
			b.Stop()
		}
	}
	for i := 1; i <= 3; i++ {
		b, err := lab.StartBackend("server"+strconv.Itoa(i), opts)
		if err != nil {
			stop()
			return nil, nil, err
		}
		backends = append(backends, b)
	}
	return backends, stop, nil
}

// labSpec is the probe spec for one lab frontend: a real host name resolved
// to the loopback port (see labHost), and a rate the loopback takes easily.
func labSpec(port, sessions, requests int) scenarios.Spec {
	s := scenarios.Default()
	s.URLs = []*url.URL{{Scheme: "http", Host: labHost + ":" + strconv.Itoa(port), Path: "/"}}
	s.Resolve = []scenarios.Resolve{{Host: labHost, Port: port, Addr: "127.0.0.1"}}
	s.Sessions, s.Requests = sessions, requests
	s.Concurrency, s.Rate = 10, 2000
	return s
}

func runLab(c *cli.Context, presets []lab.Preset) error {
	ctx, w := c.Context, c.App.Writer
	// Presets whose backends behave alike share them. Keyed by the
	// options presets set (BackendOptions holds a func, so it is no key).
	type backendKind struct {
		appCookie string
		echoAuth  bool
	}
	sets := map[backendKind][]*lab.Backend{}
	defer func() {
		for _, bs := range sets {
			for _, b := range bs {
				b.Stop()
			}
		}
	}()

	var rows []report.Labeled
	for _, p := range presets {
		if ctx.Err() != nil {
			break
		}
		kind := backendKind{p.Backend.AppCookie, p.Backend.EchoAuthorization}
		backends, ok := sets[kind]
		if !ok {
			var err error
			if backends, _, err = startBackends(p.Backend); err != nil {
				return withCode(exitCannotRun, "starting the lab's backends: %v", err)
			}
			sets[kind] = backends
		}
		rep, cfgText, err := probePreset(ctx, p, backends, c.Int("sessions"), c.Int("requests"), c.Bool("verbose"), c.App.ErrWriter)
		if err != nil {
			return withCode(exitCannotRun, "config %s: %v", p.Name, err)
		}
		if c.Bool("show-config") {
			fmt.Fprintf(w, "# --- haproxy.cfg for %s ---\n%s\n", p.Name, cfgText)
		}
		if c.Bool("details") {
			fmt.Fprintf(w, "=== %s: %s ===\n", p.Name, p.Description)
			if err := report.Table(w, rep); err != nil {
				return err
			}
			fmt.Fprintln(w)
		}
		rows = append(rows, report.Labeled{Name: p.Name, Description: p.Description, Report: rep})
	}
	if err := report.SideBySide(w, rows); err != nil {
		return err
	}
	fmt.Fprint(w, labNextSteps)
	if ctx.Err() != nil {
		return &exitError{code: exitInterrupted, err: errSilent}
	}
	return nil
}

// probePreset starts HAProxy with one preset, probes it and stops it.
func probePreset(ctx context.Context, p lab.Preset, backends []*lab.Backend, sessions, requests int, verbose bool, stderr io.Writer) (*report.Report, string, error) {
	h, err := lab.StartHAProxy(ctx, p.Config, backends)
	if err != nil {
		return nil, "", err
	}
	defer h.Stop()
	spec := labSpec(h.Port(), sessions, requests)
	rep, err := execute(ctx, spec, outputs{stdout: io.Discard, stderr: stderr, quiet: true, verbose: verbose})
	if rep == nil {
		return nil, "", err
	}
	return rep, h.Config(), nil
}

func serveLab(ctx context.Context, name string, w io.Writer) error {
	p, ok := lab.PresetByName(name)
	if !ok {
		return fmt.Errorf("--serve %q: unknown config; see `stickyprobe lab --help` for the list", name)
	}
	backends, stop, err := startBackends(p.Backend)
	if err != nil {
		return withCode(exitCannotRun, "starting the lab's backends: %v", err)
	}
	defer stop()
	h, err := lab.StartHAProxy(ctx, p.Config, backends)
	if err != nil {
		return withCode(exitCannotRun, "%v", err)
	}
	defer h.Stop()
	// The control endpoint lets a scenario's exec phase restart or reload
	// this HAProxy; loopback only, since it bounces the lab.
	ctl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return withCode(exitCannotRun, "control endpoint: %v", err)
	}
	srv := &http.Server{Handler: lab.ControlHandler(h), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ctl)
	defer srv.Close()
	port, ctlURL := h.Port(), "http://"+ctl.Addr().String()
	resolve, hostURL := fmt.Sprintf("--resolve %s:%d:127.0.0.1", labHost, port), fmt.Sprintf("http://%s:%d/", labHost, port)
	target := resolve + " " + hostURL
	fmt.Fprintf(w, "HAProxy (%s: %s) listens on %s\n\n%s\n", p.Name, p.Description, h.URL(), h.Config())
	fmt.Fprintf(w, "Probe it from another terminal:\n   stickyprobe run %s\n", h.URL())
	fmt.Fprintf(w, "or under a real host name, so Domain and Secure cookie rules apply as in production:\n"+
		"   stickyprobe run %s\n", target)
	fmt.Fprintf(w, "Restart or reload it (answers once it proxies again):\n"+
		"   curl -fsS -X POST %s/restart\n   curl -fsS -X POST %s/reload\n", ctlURL, ctlURL)
	fmt.Fprintf(w, "so a restart smoke test against it is:\n"+
		"   stickyprobe scenario run --exec 'restart=curl -fsS -X POST %s/restart' %s restart-smoke %s\n\nCtrl-C stops it.\n",
		ctlURL, resolve, hostURL)
	<-ctx.Done()
	return nil
}

const labNextSteps = `
Next: point the probe at your own frontend, e.g.
   stickyprobe run https://your-lb.example/
   stickyprobe run --id header:X-Served-By --token cookie:SERVERID -v https://your-lb.example/
and see one config in full with: stickyprobe lab --config no-server-cookie --details --show-config
`
