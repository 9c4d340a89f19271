package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
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
	for _, lc := range labCases() {
		names = append(names, lc.Name)
	}
	return &cli.Command{
		Name:  "lab",
		Usage: "run the probe against a real HAProxy on 127.0.0.1 with the textbook config and classic mistakes",
		Description: "Starts three HTTP backends and, one after the other, a real haproxy in front of them with\n" +
			"each of these configs, probes it, and shows the verdicts side by side:\n\n   " +
			strings.Join(names, ", ") + "\n\n" +
			"Everything listens on 127.0.0.1 (and 127.0.0.2-127.0.0.41 as source addresses) and stops when\n" +
			"the command ends. Each config has a verdict it should get; the command exits 1 if one gets\n" +
			"another, so it doubles as a check that this HAProxy behaves as the probe expects. Needs haproxy\n" +
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
			&cli.IntFlag{Name: "sessions", Value: 30, Usage: "sessions per config (at least 10: the spread check needs them)"},
			&cli.IntFlag{Name: "requests", Value: 6, Usage: "requests per session (at least 2)"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print every request"},
		},
		Action: func(c *cli.Context) error {
			// Flags first: a typo costs nothing and says so (exit 2).
			if n := c.Int("sessions"); n < 10 || n > 10_000 {
				return fmt.Errorf("--sessions %d: want 10..10000", n)
			}
			if n := c.Int("requests"); n < 2 || n > 1000 {
				return fmt.Errorf("--requests %d: want 2..1000 (a session is judged by two responses or more)", n)
			}
			cases, err := selectLabCases(c.StringSlice("config"))
			if err != nil && c.String("serve") == "" {
				return err
			}
			if _, err := lab.FindHAProxy(); err != nil {
				return withCode(exitCannotRun, "%v", err)
			}
			if name := c.String("serve"); name != "" {
				return serveLab(c.Context, name, c.App.Writer)
			}
			return runLab(c, cases)
		},
	}
}

// labCase is one row of the lab: a preset, what the probe does against it,
// and the verdict a correct probe gives it against HAProxy.
type labCase struct {
	lab.Preset
	expect report.Verdict
	// node, if set, is a second HAProxy node in front of the same
	// backends; the probe rotates over both.
	node *lab.HAProxyConfig
	spec func(*scenarios.Spec) // changes to the probe's spec
}

// labSources are the source addresses the lab's source-persistence rows
// bind sessions to: Linux routes all of 127.0.0.0/8 to lo.
const labSources = "127.0.0.2-127.0.0.41"

func labCases() []labCase {
	expect := map[string]report.Verdict{
		"textbook": report.Pass, "no-cookie": report.Fail, "no-server-cookie": report.Fail,
		"single-backend": report.Inconclusive, "cookie-domain": report.Fail, "cookie-secure": report.Fail,
		"stick-app-cookie": report.Pass, "source": report.Pass, "redispatch": report.Pass,
	}
	var out []labCase
	for _, p := range lab.Presets() {
		lc := labCase{Preset: p, expect: expect[p.Name]}
		if p.Name == "source" {
			lc.Description = "balance source from 40 client addresses: the address picks the server, so it sticks without cookies."
			lc.spec = func(s *scenarios.Spec) {
				s.Token = scenarios.Token{Kind: scenarios.TokenSource}
				s.SourceIPs, _ = scenarios.ParseSourceIPs(labSources)
			}
		}
		out = append(out, lc)
		if p.Name == "source" {
			out = append(out, labCase{
				Preset: lab.Preset{Name: "source-nat", Config: p.Config,
					Description: "balance source, every user behind one NAT (one address): all on one server; the spread check fails."},
				expect: report.Fail,
				spec: func(s *scenarios.Spec) {
					s.Token = scenarios.Token{Kind: scenarios.TokenSource}
					s.MinBackends = 3
				},
			})
		}
	}
	textbook, _ := lab.PresetByName("textbook")
	node := textbook.Config
	node.CookiePrefix = "b"
	out = append(out, labCase{
		Preset: lab.Preset{Name: "nodes-disagree", Config: textbook.Config,
			Description: "Two textbook LB nodes whose `cookie` values differ (s1 vs bs1): a user moving between them changes server."},
		expect: report.Fail,
		node:   &node,
		spec:   func(s *scenarios.Spec) { s.Frontends = scenarios.FrontendsRotate },
	})
	return out
}

func selectLabCases(names []string) ([]labCase, error) {
	all := labCases()
	if len(names) == 0 {
		return all, nil
	}
	var out []labCase
	for _, n := range names {
		i := slices.IndexFunc(all, func(lc labCase) bool { return lc.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("--config %q: unknown; see `stickyprobe lab --help` for the list", n)
		}
		out = append(out, all[i])
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

// labSpec is the probe spec for lab frontends: a real host name resolved
// to each loopback port (see labHost), and a rate the loopback takes
// easily.
func labSpec(ports []int, sessions, requests int) scenarios.Spec {
	s := scenarios.Default()
	for _, port := range ports {
		s.URLs = append(s.URLs, &url.URL{Scheme: "http", Host: labHost + ":" + strconv.Itoa(port), Path: "/"})
		s.Resolve = append(s.Resolve, scenarios.Resolve{Host: labHost, Port: port, Addr: "127.0.0.1"})
	}
	s.Sessions, s.Requests = sessions, requests
	s.Concurrency, s.Rate = 10, 2000
	return s
}

func runLab(c *cli.Context, cases []labCase) error {
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
	var unexpected []string
	for _, lc := range cases {
		if ctx.Err() != nil {
			break
		}
		kind := backendKind{lc.Backend.AppCookie, lc.Backend.EchoAuthorization}
		backends, ok := sets[kind]
		if !ok {
			var err error
			if backends, _, err = startBackends(lc.Backend); err != nil {
				return withCode(exitCannotRun, "starting the lab's backends: %v", err)
			}
			sets[kind] = backends
		}
		rep, cfgText, err := probeLabCase(ctx, lc, backends, c.Int("sessions"), c.Int("requests"), c.Bool("verbose"), c.App.ErrWriter)
		if err != nil {
			return withCode(exitCannotRun, "config %s: %v", lc.Name, err)
		}
		if c.Bool("show-config") {
			fmt.Fprintf(w, "# --- haproxy.cfg for %s ---\n%s\n", lc.Name, cfgText)
		}
		if c.Bool("details") {
			fmt.Fprintf(w, "=== %s: %s ===\n", lc.Name, lc.Description)
			if err := report.Table(w, rep); err != nil {
				return err
			}
			fmt.Fprintln(w)
		}
		rows = append(rows, report.Labeled{Name: lc.Name, Description: lc.Description, Report: rep})
		if lc.expect != "" && rep.Verdict != lc.expect && ctx.Err() == nil {
			unexpected = append(unexpected, fmt.Sprintf("%s: %s, expected %s", lc.Name, rep.Verdict, lc.expect))
		}
	}
	if err := report.SideBySide(w, rows); err != nil {
		return err
	}
	fmt.Fprint(w, labNextSteps)
	if ctx.Err() != nil {
		return &exitError{code: exitInterrupted, err: errSilent}
	}
	if len(unexpected) > 0 {
		return withCode(exitFail, "the lab's HAProxy gave verdicts it should not (%s): see them with --details", strings.Join(unexpected, "; "))
	}
	return nil
}

// probeLabCase starts HAProxy with one case's config (and its second
// node), probes it and stops it.
func probeLabCase(ctx context.Context, lc labCase, backends []*lab.Backend, sessions, requests int, verbose bool, stderr io.Writer) (*report.Report, string, error) {
	h, err := lab.StartHAProxy(ctx, lc.Config, backends)
	if err != nil {
		return nil, "", err
	}
	defer h.Stop()
	ports, cfgText := []int{h.Port()}, h.Config()
	if lc.node != nil {
		n, err := lab.StartHAProxy(ctx, *lc.node, backends)
		if err != nil {
			return nil, "", err
		}
		defer n.Stop()
		ports, cfgText = append(ports, n.Port()), cfgText+"\n# --- the second node ---\n"+n.Config()
	}
	spec := labSpec(ports, sessions, requests)
	if lc.spec != nil {
		lc.spec(&spec)
	}
	rep, err := execute(ctx, spec, outputs{stdout: io.Discard, stderr: stderr, quiet: true, verbose: verbose})
	if rep == nil {
		return nil, "", err
	}
	return rep, cfgText, nil
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
	srv := &http.Server{Handler: lab.ControlHandler(h, backends...), ReadHeaderTimeout: 5 * time.Second}
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
	fmt.Fprintf(w, "Kill a backend and bring it back, for failover (--on-backend-loss):\n"+
		"   curl -fsS -X POST %s/backends/server1/stop\n   curl -fsS -X POST %s/backends/server1/start\n", ctlURL, ctlURL)
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
