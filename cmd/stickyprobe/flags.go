package main

import (
	"fmt"

	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

// Flag categories group --help into what an SRE looks for.
const (
	catLoad    = "Load (bounded by default)"
	catDetect  = "Detection"
	catConn    = "Connections and target"
	catOutput  = "Output"
	catVerdict = "Verdict"
)

func probeFlags() []cli.Flag {
	d := scenarios.Default()
	return []cli.Flag{
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

		&cli.StringFlag{Name: "conn", Value: string(d.Conn), Category: catConn,
			Usage: "connection policy: fresh (a new TCP connection per request), session (one keep-alive connection per session), shared (one pool for all). " +
				"fresh is the default because an LB that balances per connection (mode tcp, prefer-last-server, many ingress proxies) keeps a reused connection on one backend, so broken persistence looks sticky"},
		&cli.StringSliceFlag{Name: "header", Aliases: []string{"H"}, Category: catConn,
			Usage: "extra request header `NAME:VALUE` (repeatable); Host: sets the Host header"},
		&cli.StringSliceFlag{Name: "resolve", Category: catConn,
			Usage: "`HOST:PORT:ADDR` as in curl: connect to ADDR for HOST:PORT, keep the Host header and TLS name (repeatable)"},
		&cli.BoolFlag{Name: "insecure", Aliases: []string{"k"}, Category: catConn,
			Usage: "do not verify TLS certificates"},

		&cli.Float64Flag{Name: "min-stickiness", Value: d.MinStickiness, Category: catVerdict,
			Usage: "fraction of judged sessions that must stay on their backend"},
		&cli.Float64Flag{Name: "max-error-rate", Value: d.MaxErrorRate, Category: catVerdict,
			Usage: "fraction of requests allowed to fail (transport errors and 5xx)"},
	}
}

func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "json", Category: catOutput, Usage: "write the JSON report (schema stickyprobe.report/v1) to `FILE` (- for stdout)"},
		&cli.StringFlag{Name: "events", Category: catOutput, Usage: "write one JSON object per request (JSON Lines) to `FILE` (- for stdout)"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Category: catOutput,
			Usage: "print one line per request to stderr as it happens (session, seq, status, backend, token sent→set, latency); -vv adds the request and response headers, redacted"},
		&cli.StringFlag{Name: "har", Category: catOutput,
			Usage: "write the broken sessions as HAR 1.2 to `FILE` (one page per session; opens in a browser's dev tools); secrets redacted"},
		&cli.BoolFlag{Name: "har-all", Category: catOutput, Usage: "with --har: every session, sticky and control ones too"},
		&cli.StringFlag{Name: "markdown", Category: catOutput, Usage: "write the report as Markdown, to paste into a GitHub or GitLab issue, to `FILE`"},
		&cli.StringSliceFlag{Name: "redact-header", Category: catOutput,
			Usage: "also redact the value of header `NAME` (repeatable); Authorization, Proxy-Authorization and cookie values other than the affinity token always are"},
		&cli.BoolFlag{Name: "show-secrets", Category: catOutput,
			Usage: "redact nothing: cookie values and credentials appear in clear in every output (a warning says so)"},
		&cli.BoolFlag{Name: "no-progress", Category: catOutput, Usage: "no progress bar (it only shows on a terminal anyway)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Category: catOutput, Usage: "no table report; the exit code (and --json) say it all"},
	}
}

// specFromFlags builds the spec from the command line; every error names
// the flag at fault.
func specFromFlags(c *cli.Context) (scenarios.Spec, error) {
	s := scenarios.Default()
	if c.NArg() == 0 {
		return s, fmt.Errorf("no target: give at least one frontend URL, e.g. `stickyprobe run http://lb.example/`")
	}
	for _, raw := range c.Args().Slice() {
		u, err := scenarios.ParseURL(raw)
		if err != nil {
			return s, err
		}
		s.URLs = append(s.URLs, u)
	}
	var err error
	if s.Identify, err = scenarios.ParseIdentify(c.String("id")); err != nil {
		return s, err
	}
	if s.Token, err = scenarios.ParseToken(c.String("token")); err != nil {
		return s, err
	}
	if s.Conn, err = scenarios.ParseConnPolicy(c.String("conn")); err != nil {
		return s, fmt.Errorf("--conn: %w", err)
	}
	for _, h := range c.StringSlice("header") {
		hv, err := scenarios.ParseHeader(h)
		if err != nil {
			return s, err
		}
		s.Headers = append(s.Headers, hv)
	}
	for _, r := range c.StringSlice("resolve") {
		rv, err := scenarios.ParseResolve(r)
		if err != nil {
			return s, err
		}
		s.Resolve = append(s.Resolve, rv)
	}
	s.Sessions = c.Int("sessions")
	s.Requests = c.Int("requests")
	s.ControlSessions = c.Int("control")
	s.Concurrency = c.Int("concurrency")
	s.Rate = c.Float64("rate")
	s.Think = c.Duration("think")
	s.Timeout = c.Duration("timeout")
	s.MaxDuration = c.Duration("max-duration")
	s.Seed = c.Int64("seed")
	s.Insecure = c.Bool("insecure")
	s.MinStickiness = c.Float64("min-stickiness")
	s.MaxErrorRate = c.Float64("max-error-rate")
	return s, s.Validate()
}
