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
		Usage: "run the probe against real HAProxy, nginx, Caddy and Apache on 127.0.0.1 with good configs and classic mistakes",
		Description: "Starts three HTTP backends and, one after the other, a real haproxy, nginx, caddy or apache2\n" +
			"in front of them with each of these configs, probes it, and shows the verdicts side by side:\n\n   " +
			strings.Join(names, ", ") + "\n\n" +
			"Everything listens on 127.0.0.1 (and other 127.0.0.0/8 addresses as source addresses) and stops\n" +
			"when the command ends. Each config has a verdict it should get; the command exits 1 if one gets\n" +
			"another, so it doubles as a check that these load balancers behave as the probe expects. Needs\n" +
			"the binaries of the kinds it runs (Debian/Ubuntu: sudo apt-get install -y haproxy nginx caddy apache2).\n\n" +
			"Examples:\n" +
			"   stickyprobe lab                          all configs, side by side\n" +
			"   stickyprobe lab --lb nginx --lb caddy    only these load balancers\n" +
			"   stickyprobe lab --config no-server-cookie --details\n" +
			"   stickyprobe lab --serve apache-route-no-dot   keep one running and probe it yourself",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "config", Usage: "only these configs (repeatable; default all)"},
			&cli.StringSliceFlag{Name: "lb", Usage: "only configs of these load balancers: " + strings.Join(labKinds, ", ") + " (repeatable; default all)"},
			&cli.BoolFlag{Name: "details", Usage: "print the full report of every config"},
			&cli.BoolFlag{Name: "show-config", Usage: "print each generated config (haproxy.cfg, nginx.conf, Caddyfile, httpd.conf)"},
			&cli.StringFlag{Name: "serve", Usage: "start config `NAME`, print its URL and keep it running until Ctrl-C"},
			&cli.IntFlag{Name: "sessions", Value: 30, Usage: "sessions per config (at least 10: the spread check needs them)"},
			&cli.IntFlag{Name: "requests", Value: 6, Usage: "requests per session (at least 2)"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print every request"},
		},
		Action: labAction,
	}
}

func labAction(c *cli.Context) error {
	// Flags first: a typo costs nothing and says so (exit 2).
	if n := c.Int("sessions"); n < 10 || n > 10_000 {
		return fmt.Errorf("--sessions %d: want 10..10000", n)
	}
	if n := c.Int("requests"); n < 2 || n > 1000 {
		return fmt.Errorf("--requests %d: want 2..1000 (a session is judged by two responses or more)", n)
	}
	if name := c.String("serve"); name != "" {
		p, ok := lab.LBPresetByName(name)
		if !ok {
			return fmt.Errorf("--serve %q: unknown config; see `stickyprobe lab --help` for the list", name)
		}
		if _, err := lab.FindLB(p.Kind()); err != nil {
			return withCode(exitCannotRun, "%v", err)
		}
		return serveLab(c.Context, p, c.App.Writer)
	}
	cases, err := selectLabCases(c.StringSlice("config"), c.StringSlice("lb"))
	if err != nil {
		return err
	}
	// Every binary needed is checked before anything starts, so a missing
	// one costs nothing and its install hint is what the user sees.
	for _, kind := range labKinds {
		if slices.ContainsFunc(cases, func(lc labCase) bool { return lc.Kind() == kind }) {
			if _, err := lab.FindLB(kind); err != nil {
				return withCode(exitCannotRun, "%v", err)
			}
		}
	}
	return runLab(c, cases)
}

// labCase is one row of the lab: a preset, what the probe does against it,
// and the verdict a correct probe gives it against that load balancer.
type labCase struct {
	lab.LBPreset
	expect report.Verdict
	// node, if set, is a second node in front of the same backends; the
	// probe rotates over both.
	node lab.LBConfig
	spec func(*scenarios.Spec) // changes to the probe's spec
}

// labSources are the source addresses the lab's source-persistence rows
// bind sessions to: Linux routes all of 127.0.0.0/8 to lo. All in one
// /24, which nginx's ip_hash treats as one client.
const labSources = "127.0.0.2-127.0.0.41"

// labSources24 are 40 source addresses in 40 different /24s.
func labSources24() string {
	var addrs []string
	for i := 1; i <= 40; i++ {
		addrs = append(addrs, "127.0."+strconv.Itoa(i)+".2")
	}
	return strings.Join(addrs, ",")
}

// labKinds are the load balancer kinds the lab runs, in row order.
var labKinds = []string{"haproxy", "nginx", "caddy", "apache"}

func bySource(pool string, minBackends int) func(*scenarios.Spec) {
	return func(s *scenarios.Spec) {
		s.Token = scenarios.Token{Kind: scenarios.TokenSource}
		if pool != "" {
			s.SourceIPs, _ = scenarios.ParseSourceIPs(pool)
		}
		s.MinBackends = minBackends
	}
}

func byCookie(name string) func(*scenarios.Spec) {
	return func(s *scenarios.Spec) { s.Token = scenarios.Token{Kind: scenarios.TokenCookie, Name: name} }
}

func labCases() []labCase {
	expect := map[string]report.Verdict{
		"textbook": report.Pass, "no-cookie": report.Fail, "no-server-cookie": report.Fail,
		"single-backend": report.Inconclusive, "cookie-domain": report.Fail, "cookie-secure": report.Fail,
		"stick-app-cookie": report.Pass, "source": report.Pass, "redispatch": report.Pass,
		"nginx-hash-cookie": report.Fail, "nginx-hash-remote-addr": report.Pass, "nginx-ip-hash": report.Pass,
		"nginx-round-robin": report.Fail, "caddy-cookie": report.Pass, "caddy-round-robin": report.Fail,
		"caddy-ip-hash": report.Pass, "apache-routeid": report.Pass, "apache-route-no-dot": report.Fail,
		"apache-unset-cookie": report.Fail,
	}
	specs := map[string]func(*scenarios.Spec){
		"source":                 bySource(labSources, -1),
		"nginx-hash-cookie":      byCookie(lab.AppCookie),
		"nginx-hash-remote-addr": bySource(labSources, -1),
		"nginx-ip-hash":          bySource(labSources24(), -1),
		"caddy-ip-hash":          bySource(labSources, -1),
	}
	var out []labCase
	for _, p := range lab.LBPresets() {
		v, ok := expect[p.Name]
		if !ok {
			continue // a preset for --serve and the tests only
		}
		if p.Name == "source" {
			p.Description = "balance source from 40 client addresses: the address picks the server, so it sticks without cookies."
		}
		out = append(out, labCase{LBPreset: p, expect: v, spec: specs[p.Name]})
		out = append(out, extraLabCases(p)...)
	}
	return out
}

// extraLabCases are the rows that run preset p another way: behind one
// NAT, from one /24, or as two nodes that disagree.
func extraLabCases(p lab.LBPreset) []labCase {
	variant := func(name, desc string) lab.LBPreset {
		return lab.LBPreset{Name: name, Description: desc, Config: p.Config, Backend: p.Backend}
	}
	switch p.Name {
	case "source":
		return []labCase{{LBPreset: variant("source-nat",
			"balance source, every user behind one NAT (one address): all on one server; the spread check fails."),
			expect: report.Fail, spec: bySource("", 3)}}
	case "textbook":
		node := p.Config.(lab.HAProxyConfig)
		node.CookiePrefix = "b"
		return []labCase{{LBPreset: variant("nodes-disagree",
			"Two textbook LB nodes whose `cookie` values differ (s1 vs bs1): a user moving between them changes server."),
			expect: report.Fail, node: node, spec: rotate}}
	case "nginx-ip-hash":
		return []labCase{{LBPreset: variant("nginx-ip-hash-one-24",
			"nginx `ip_hash` with 40 users in one /24 (127.0.0.2-41): ip_hash keys on three octets, so all share one server."),
			expect: report.Fail, spec: bySource(labSources, 3)}}
	case "caddy-cookie":
		node := p.Config.(lab.CaddyConfig)
		node.LBPolicy = "cookie lb " + lab.CaddyOtherSecret
		return []labCase{{LBPreset: variant("caddy-nodes-secrets",
			"Two Caddy nodes with `lb_policy cookie` and different secrets: each takes the other's cookie for an unknown value and picks again."),
			expect: report.Fail, node: node, spec: rotate}}
	}
	return nil
}

func rotate(s *scenarios.Spec) { s.Frontends = scenarios.FrontendsRotate }

// selectLabCases picks rows by name (--config) and kind (--lb).
func selectLabCases(names, kinds []string) ([]labCase, error) {
	for _, k := range kinds {
		if !slices.Contains(labKinds, k) {
			return nil, fmt.Errorf("--lb %q: want one of %s", k, strings.Join(labKinds, ", "))
		}
	}
	all := labCases()
	if len(kinds) > 0 {
		all = slices.DeleteFunc(all, func(lc labCase) bool { return !slices.Contains(kinds, lc.Kind()) })
	}
	if len(names) == 0 {
		return all, nil
	}
	var out []labCase
	for _, n := range names {
		i := slices.IndexFunc(all, func(lc labCase) bool { return lc.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("--config %q: unknown (or not of --lb's kinds); see `stickyprobe lab --help` for the list", n)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// startBackends starts the lab's three backends; stop releases them.
func startBackends(opts lab.BackendOptions) (backends []*lab.Backend, stop func(), err error) {
	backends, err = lab.StartBackends(3, opts)
	if err != nil {
		return nil, nil, err
	}
	return backends, func() { lab.StopBackends(backends) }, nil
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
			fmt.Fprintf(w, "# --- %s config for %s ---\n%s\n", lc.Kind(), lc.Name, cfgText)
		}
		if c.Bool("details") {
			fmt.Fprintf(w, "=== %s: %s ===\n", lc.Name, lc.Description)
			if err := report.Table(w, rep); err != nil {
				return err
			}
			fmt.Fprintln(w)
		}
		rows = append(rows, report.Labeled{Name: lc.Name, Description: lc.Description, Report: rep, ConfigLine: labConfigLine(lc.Kind(), cfgText)})
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
		return withCode(exitFail, "the lab's load balancers gave verdicts it should not (%s): see them with --details", strings.Join(unexpected, "; "))
	}
	return nil
}

// probeLabCase starts one case's load balancer (and its second node),
// probes it and stops it.
func probeLabCase(ctx context.Context, lc labCase, backends []*lab.Backend, sessions, requests int, verbose bool, stderr io.Writer) (*report.Report, string, error) {
	h, err := lab.StartNode(ctx, lc.Config, backends)
	if err != nil {
		return nil, "", err
	}
	defer h.Stop()
	ports, cfgText := []int{h.Port()}, h.Config()
	if lc.node != nil {
		n, err := lab.StartNode(ctx, lc.node, backends)
		if err != nil {
			return nil, "", err
		}
		defer n.Stop()
		ports, cfgText = append(ports, n.Port()), cfgText+labNodeSeparator+n.Config()
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

// labKindNames are the load balancers' names as their users write them.
var labKindNames = map[string]string{"haproxy": "HAProxy", "nginx": "nginx", "caddy": "Caddy", "apache": "Apache"}

func serveLab(ctx context.Context, p lab.LBPreset, w io.Writer) error {
	backends, stop, err := startBackends(p.Backend)
	if err != nil {
		return withCode(exitCannotRun, "starting the lab's backends: %v", err)
	}
	defer stop()
	h, err := lab.StartNode(ctx, withStatsSocket(p.Config), backends)
	if err != nil {
		return withCode(exitCannotRun, "%v", err)
	}
	defer h.Stop()
	// The control endpoint lets a scenario's exec phase restart or reload
	// this load balancer; loopback only, since it bounces the lab.
	ctl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return withCode(exitCannotRun, "control endpoint: %v", err)
	}
	srv := &http.Server{Handler: lab.ControlHandler(h, backends...), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ctl)
	defer srv.Close()
	printServe(w, p, h, "http://"+ctl.Addr().String())
	<-ctx.Done()
	return nil
}

func printServe(w io.Writer, p lab.LBPreset, h lab.Node, ctlURL string) {
	port, scheme, insecure := h.Port(), "http", ""
	if strings.HasPrefix(h.URL(), "https:") {
		scheme, insecure = "https", "--insecure " // the lab's own certificate
	}
	resolve := fmt.Sprintf("%s--resolve %s:%d:127.0.0.1", insecure, labHost, port)
	hostURL := fmt.Sprintf("%s://%s:%d/", scheme, labHost, port)
	target := resolve + " " + hostURL
	fmt.Fprintf(w, "%s (%s: %s) listens on %s\n\n%s\n", labKindNames[p.Kind()], p.Name, p.Description, h.URL(), h.Config())
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
	printStatsSocket(w, h, target)
	fmt.Fprint(w, "\nCtrl-C stops it.\n")
}

const labNextSteps = `
Next: point the probe at your own frontend, e.g.
   stickyprobe run https://your-lb.example/
   stickyprobe run --id header:X-Served-By --token cookie:SERVERID -v https://your-lb.example/
and see one config in full with: stickyprobe lab --config no-server-cookie --details --show-config
`
