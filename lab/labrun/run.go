package labrun

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/stickyprobe/stickyprobe/hacheck"
	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

// Host is the host name the lab's frontends are probed under. A real
// name, resolved to 127.0.0.1 the way curl --resolve does, because a
// cookie jar treats loopback addresses as secure origins and refuses
// Domain attributes on IP addresses: the domain and secure mistakes would
// not show on 127.0.0.1.
const Host = "lab.stickyprobe.test"

// Options are how Run probes each row and what it prints besides the
// table.
type Options struct {
	Sessions, Requests int
	Verbose            bool      // every request on Stderr
	Stderr             io.Writer // nil: discarded
	ShowConfig         bool      // print each row's generated config(s)
	Details            bool      // print each row's full report
	Creator            string    // "stickyprobe VERSION", in the events the pipeline records
	LB                 string    // pipeline.Options.LB: whose words the hints are in
}

// Result is what Run saw.
type Result struct {
	Rows []report.Labeled
	// Unexpected are the rows whose verdict is not their Case's Expect,
	// as "name: got, expected want"; rows cut by ctx are not judged.
	Unexpected []string
}

// CannotRunError is a lab that could not be started (backends, a load
// balancer, a control endpoint): the environment's fault, not a verdict.
type CannotRunError struct{ Err error }

func (e *CannotRunError) Error() string { return e.Err.Error() }
func (e *CannotRunError) Unwrap() error { return e.Err }

func cannotRun(format string, a ...any) error {
	return &CannotRunError{Err: fmt.Errorf(format, a...)}
}

// backendSets starts backends on demand and shares them between rows
// whose backends behave alike. Keyed by the options presets set
// (BackendOptions holds a func, so it is no key).
type backendSets map[backendKind][]*lab.Backend

type backendKind struct {
	appCookie string
	echoAuth  bool
}

func (s backendSets) get(opts lab.BackendOptions) ([]*lab.Backend, error) {
	kind := backendKind{opts.AppCookie, opts.EchoAuthorization}
	if bs, ok := s[kind]; ok {
		return bs, nil
	}
	bs, err := lab.StartBackends(3, opts)
	if err != nil {
		return nil, cannotRun("starting the lab's backends: %v", err)
	}
	s[kind] = bs
	return bs, nil
}

func (s backendSets) stop() {
	for _, bs := range s {
		lab.StopBackends(bs)
	}
}

// Run probes each case in turn and writes the side-by-side table to w
// (after each row's config and report, when asked). A canceled ctx stops
// it after the row under way; the table still shows what ran.
func Run(ctx context.Context, w io.Writer, cases []Case, o Options) (*Result, error) {
	sets := backendSets{}
	defer sets.stop()
	res := &Result{}
	for _, lc := range cases {
		if ctx.Err() != nil {
			break
		}
		backends, err := sets.get(lc.Backend)
		if err != nil {
			return nil, err
		}
		row, err := runCase(ctx, w, lc, backends, o)
		if err != nil {
			return nil, err
		}
		res.Rows = append(res.Rows, row)
		if lc.Expect != "" && row.Report.Verdict != lc.Expect && ctx.Err() == nil {
			res.Unexpected = append(res.Unexpected, fmt.Sprintf("%s: %s, expected %s", lc.Name, row.Report.Verdict, lc.Expect))
		}
	}
	return res, report.SideBySide(w, res.Rows)
}

// runCase probes one row and prints its config and report when asked.
func runCase(ctx context.Context, w io.Writer, lc Case, backends []*lab.Backend, o Options) (report.Labeled, error) {
	rep, cfgText, err := probeCase(ctx, lc, backends, o)
	if err != nil {
		return report.Labeled{}, cannotRun("config %s: %v", lc.Name, err)
	}
	if o.ShowConfig {
		fmt.Fprintf(w, "# --- %s config for %s ---\n%s\n", lc.Kind(), lc.Name, cfgText)
	}
	if o.Details {
		fmt.Fprintf(w, "=== %s: %s ===\n", lc.Name, lc.Description)
		if err := report.Table(w, rep); err != nil {
			return report.Labeled{}, err
		}
		fmt.Fprintln(w)
	}
	return report.Labeled{Name: lc.Name, Description: lc.Description, Report: rep, ConfigLine: ConfigLine(lc.Kind(), cfgText)}, nil
}

// probeCase starts one case's load balancer (and its second node),
// probes it and stops it.
func probeCase(ctx context.Context, lc Case, backends []*lab.Backend, o Options) (*report.Report, string, error) {
	h, err := lab.StartNode(ctx, lc.Config, backends)
	if err != nil {
		return nil, "", err
	}
	defer h.Stop()
	ports, cfgText := []int{h.Port()}, h.Config()
	if lc.Node != nil {
		n, err := lab.StartNode(ctx, lc.Node, backends)
		if err != nil {
			return nil, "", err
		}
		defer n.Stop()
		ports, cfgText = append(ports, n.Port()), cfgText+nodeSeparator+n.Config()
	}
	spec := Spec(ports, o.Sessions, o.Requests)
	if lc.Spec != nil {
		lc.Spec(&spec)
	}
	res, err := pipeline.Run(ctx, spec, pipeline.Options{
		Outputs: pipeline.Outputs{Quiet: true},
		Stdout:  io.Discard, Stderr: o.Stderr,
		Verbose: o.Verbose,
		Creator: o.Creator,
		LB:      o.LB,
	})
	if res == nil {
		return nil, "", err
	}
	return res.Report, cfgText, nil
}

// Spec is the probe spec for lab frontends: a real host name resolved
// to each loopback port (see Host), and a rate the loopback takes
// easily.
func Spec(ports []int, sessions, requests int) scenarios.Spec {
	s := scenarios.Default()
	for _, port := range ports {
		s.URLs = append(s.URLs, &url.URL{Scheme: "http", Host: Host + ":" + strconv.Itoa(port), Path: "/"})
		s.Resolve = append(s.Resolve, scenarios.Resolve{Host: Host, Port: port, Addr: "127.0.0.1"})
	}
	s.Sessions, s.Requests = sessions, requests
	s.Concurrency, s.Rate = 10, 2000
	return s
}

// nodeSeparator joins the configs of a row's two nodes in the text
// probeCase returns.
const nodeSeparator = "\n# --- the second node ---\n"

// ConfigLine is the line `check-config` points at first in a lab row's
// HAProxy config(s), shown next to the probe's verdict; "" for other
// load balancers.
func ConfigLine(kind, cfgText string) string {
	if kind != "haproxy" {
		return ""
	}
	u := &url.URL{Scheme: "http", Host: Host, Path: "/"}
	return hacheck.Pointer(strings.Split(cfgText, nodeSeparator), u)
}
