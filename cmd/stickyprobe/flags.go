package main

import (
	"fmt"
	"time"

	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

// Flag categories group --help into what an SRE looks for.
const (
	catLoad     = "Load (bounded by default)"
	catDetect   = "Detection"
	catConn     = "Connections and target"
	catTopology = "Topology: LB nodes, source addresses, the first-request race"
	catOutput   = "Output"
	catVerdict  = "Verdict"
	// Inputs from the LB itself, read beside the probe: its config, its
	// Runtime API, its log.
	catLB = "What HAProxy itself says (config, Runtime API, log)"
)

func probeFlags() []cli.Flag {
	d := scenarios.Default()
	return append([]cli.Flag{
		&cli.IntFlag{Name: "sessions", Aliases: []string{"n"}, Value: d.Sessions, Category: catLoad,
			Usage: "simulated users, each with its own cookie jar"},
		&cli.IntFlag{Name: "requests", Aliases: []string{"r"}, Value: d.Requests, Category: catLoad,
			Usage: "requests per session"},
		&cli.IntFlag{Name: "control", Value: d.ControlSessions, Category: catDetect,
			Usage: "extra control sessions that never keep a cookie; they must change backend, or the run could not have seen breakage (-1 = 10% of --sessions, at least 3; 0 = none)"},
		&cli.IntFlag{Name: "concurrency", Aliases: []string{"c"}, Value: d.Concurrency, Category: catLoad,
			Usage: "requests in flight at most"},
		&cli.Float64Flag{Name: "rate", Value: d.Rate, Category: catLoad,
			Usage: "global cap in requests per second, for the whole run (0 = unlimited)"},
		&cli.DurationFlag{Name: "think", Value: d.Think, Category: catLoad,
			Usage: "pause between two requests of one session"},
		&cli.DurationFlag{Name: "timeout", Value: d.Timeout, Category: catLoad,
			Usage: "per request, headers and body; keep it longer than the LB's own retries and redispatch (HAProxy can take 2-3 s)"},
		&cli.DurationFlag{Name: "max-duration", Value: d.MaxDuration, Category: catLoad,
			Usage: "hard cap on the whole run; the report covers what ran"},
		&cli.Int64Flag{Name: "seed", Category: catLoad,
			Usage: "seed of the shuffled request order (0 = random; the report prints the seed used)"},

		&cli.StringFlag{Name: "id", Value: "auto", Category: catDetect,
			Usage: "where a response names its backend: header:NAME, cookie:NAME, body:REGEX (first group), or auto (X-Backend, X-Server, X-Served-By headers, then the token cookie)"},
		&cli.StringFlag{Name: "token", Value: "auto", Category: catDetect,
			Usage: "what pins a session: cookie:NAME, auto (learn the cookie the LB sets), source (client address), none (expect spread, not stickiness)"},
	}, connFlags(d)...)
}

// connFlags are the connection, topology and verdict flags of probeFlags.
func connFlags(d scenarios.Spec) []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "conn", Value: string(d.Conn), Category: catConn,
			Usage: "connection policy: fresh (a new TCP connection per request), session (one keep-alive connection per session), shared (one pool for all). " +
				"fresh is the default because an LB that balances per connection (mode tcp, prefer-last-server, many ingress proxies) keeps a reused connection on one backend, so broken persistence looks sticky"},
		&cli.StringSliceFlag{Name: "header", Aliases: []string{"H"}, Category: catConn,
			Usage: "extra request header `NAME:VALUE` (repeatable); Host: sets the Host header"},
		&cli.StringSliceFlag{Name: "resolve", Category: catConn,
			Usage: "`HOST:PORT:ADDR` as in curl: connect to ADDR for HOST:PORT, keep the Host header and TLS name (repeatable)"},
		&cli.BoolFlag{Name: "insecure", Aliases: []string{"k"}, Category: catConn,
			Usage: "do not verify TLS certificates"},

		&cli.StringFlag{Name: "frontends", Value: string(d.Frontends), Category: catTopology,
			Usage: "with several frontends (several URLs, or one host with several --resolve addresses: one service behind several LB nodes): " +
				"pin (each session stays on one node), rotate (a session's requests go to the nodes in turn, as with DNS round robin) or random (per request, from --seed); " +
				"a switch on a move to another node is cause frontend-changed"},
		&cli.StringFlag{Name: "source-ips", Category: catTopology,
			Usage: "bind each session to one local address from `RANGE,...` (127.0.0.2-127.0.0.60, 10.0.0.5, fd00::1-fd00::ff), so balance source and stick on src can be tested from one machine; " +
				"control sessions take a new address per request"},
		&cli.IntFlag{Name: "source-move-after", Category: catTopology,
			Usage: "move each session to another address of --source-ips after `N` requests, as a NAT or a mobile client does (cause source-changed); 0 = never"},
		&cli.IntFlag{Name: "burst", Category: catTopology,
			Usage: "send each session's first `N` requests at once, before any Set-Cookie is back, as a browser loading a page does; first requests that land on different servers are cause birth-split"},
		&cli.BoolFlag{Name: "http2", Category: catTopology,
			Usage: "speak HTTP/2 (h2c with prior knowledge on http, ALPN on https); a --burst is then multiplexed over one connection"},

		&cli.Float64Flag{Name: "min-stickiness", Value: d.MinStickiness, Category: catVerdict,
			Usage: "fraction of judged sessions that must stay on their backend"},
		&cli.Float64Flag{Name: "max-error-rate", Value: d.MaxErrorRate, Category: catVerdict,
			Usage: "fraction of requests allowed to fail (transport errors and 5xx)"},
		&cli.StringFlag{Name: "on-backend-loss", Value: string(d.OnBackendLoss), Category: catVerdict,
			Usage: "what the LB should do when a session's backend goes away: strict (answer errors, never move the session), " +
				"failover-stay (move it and keep it there: HAProxy cookie insert with option redispatch) or failover-return (move it, bring it back: balance source); " +
				"expected moves are counted apart, not as breakage"},
		&cli.IntFlag{Name: "min-backends", Value: d.MinBackends, Category: catVerdict,
			Usage: "backends the sessions must be pinned to (-1 = automatic: fail when several backends answer yet all of 10 or more sessions are on one; 0 = no check)"},
		&cli.Float64Flag{Name: "max-imbalance", Value: d.MaxImbalance, Category: catVerdict,
			Usage: "largest backend's share of the sessions ÷ a fair share (1 = even; 0 = no check)"},
	}, browserFlags()...)
}

// outputFlags are the output flags of run and scenario run: one per file
// format of the registry (pipeline.Formats), and the rest.
func outputFlags() []cli.Flag {
	var flags []cli.Flag
	for _, f := range pipeline.FileFormats() {
		flags = append(flags, &cli.StringFlag{Name: f.Flag, Category: catOutput, Usage: f.Usage})
	}
	return append(flags,
		&cli.StringFlag{Name: "events", Category: catOutput, Usage: "write one JSON object per request (JSON Lines) to `FILE` (- for stdout)"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Category: catOutput,
			Usage: "print one line per request to stderr as it happens (session, seq, status, backend, token sent→set, latency); -vv adds the request and response headers, redacted"},
		&cli.BoolFlag{Name: "har-all", Category: catOutput, Usage: "with --har: every session, sticky and control ones too"},
		&cli.StringSliceFlag{Name: "redact-header", Category: catOutput,
			Usage: "also redact the value of header `NAME` (repeatable); Authorization, Proxy-Authorization and cookie values other than the affinity token always are"},
		&cli.BoolFlag{Name: "show-secrets", Category: catOutput,
			Usage: "redact nothing: cookie values and credentials appear in clear in every output (a warning says so)"},
		&cli.BoolFlag{Name: "no-progress", Category: catOutput, Usage: "no progress bar (it only shows on a terminal anyway)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Category: catOutput, Usage: "no table report; the exit code (and --json) say it all"},
		lbFlag(),
	)
}

func applyURLs(s *scenarios.Spec, args []string) error {
	for _, raw := range args {
		u, err := scenarios.ParseURL(raw)
		if err != nil {
			return err
		}
		s.URLs = append(s.URLs, u)
	}
	return nil
}

// applyFlags sets the spec from the probe flags for which set is true:
// every flag for `run`, only those given on the command line for
// `scenario run`, where the file's values stand otherwise.
func applyFlags(c *cli.Context, s *scenarios.Spec, set func(name string) bool) error {
	var err error
	if set("id") {
		if s.Identify, err = scenarios.ParseIdentify(c.String("id")); err != nil {
			return err
		}
	}
	if set("token") {
		if s.Token, err = scenarios.ParseToken(c.String("token")); err != nil {
			return err
		}
	}
	if set("conn") {
		if s.Conn, err = scenarios.ParseConnPolicy(c.String("conn")); err != nil {
			return fmt.Errorf("--conn: %w", err)
		}
	}
	if err := applyLists(c, s, set); err != nil {
		return err
	}
	ints := map[string]*int{"sessions": &s.Sessions, "requests": &s.Requests, "control": &s.ControlSessions, "concurrency": &s.Concurrency}
	for name, dst := range ints {
		if set(name) {
			*dst = c.Int(name)
		}
	}
	durations := map[string]*time.Duration{"think": &s.Think, "timeout": &s.Timeout, "max-duration": &s.MaxDuration}
	for name, dst := range durations {
		if set(name) {
			*dst = c.Duration(name)
		}
	}
	floats := map[string]*float64{"rate": &s.Rate, "min-stickiness": &s.MinStickiness, "max-error-rate": &s.MaxErrorRate}
	for name, dst := range floats {
		if set(name) {
			*dst = c.Float64(name)
		}
	}
	if set("seed") {
		s.Seed = c.Int64("seed")
	}
	if set("insecure") {
		s.Insecure = c.Bool("insecure")
	}
	return applyTopologyFlags(c, s, set)
}

// applyLists is applyFlags for the repeatable flags: a list given
// replaces the file's.
func applyLists(c *cli.Context, s *scenarios.Spec, set func(name string) bool) error {
	if set("header") {
		s.Headers = nil
		for _, h := range c.StringSlice("header") {
			hv, err := scenarios.ParseHeader(h)
			if err != nil {
				return err
			}
			s.Headers = append(s.Headers, hv)
		}
	}
	if set("resolve") {
		s.Resolve = nil
		for _, r := range c.StringSlice("resolve") {
			rv, err := scenarios.ParseResolve(r)
			if err != nil {
				return err
			}
			s.Resolve = append(s.Resolve, rv)
		}
	}
	return nil
}

// applyTopologyFlags is applyFlags for the topology and spread flags.
func applyTopologyFlags(c *cli.Context, s *scenarios.Spec, set func(name string) bool) error {
	var err error
	if set("frontends") {
		if s.Frontends, err = scenarios.ParseFrontendPolicy(c.String("frontends")); err != nil {
			return fmt.Errorf("--frontends: %w", err)
		}
	}
	if set("on-backend-loss") {
		if s.OnBackendLoss, err = scenarios.ParseLossPolicy(c.String("on-backend-loss")); err != nil {
			return fmt.Errorf("--on-backend-loss: %w", err)
		}
	}
	if set("source-ips") {
		if s.SourceIPs, err = scenarios.ParseSourceIPs(c.String("source-ips")); err != nil {
			return err
		}
	}
	ints := map[string]*int{"source-move-after": &s.SourceMoveAfter, "burst": &s.Burst, "min-backends": &s.MinBackends}
	for name, dst := range ints {
		if set(name) {
			*dst = c.Int(name)
		}
	}
	if set("max-imbalance") {
		s.MaxImbalance = c.Float64("max-imbalance")
	}
	if set("http2") {
		s.HTTP2 = c.Bool("http2")
	}
	return nil
}
