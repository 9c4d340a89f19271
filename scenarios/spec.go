package scenarios

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ConnPolicy says how the probe uses TCP connections.
type ConnPolicy string

const (
	// ConnFresh opens a new TCP connection for every request. It is the
	// default because a load balancer in TCP mode, or one that prefers the
	// last server of a keep-alive connection, keeps a reused connection on
	// one backend whether persistence works or not.
	ConnFresh ConnPolicy = "fresh"
	// ConnSession keeps one keep-alive connection per session, as a browser
	// tab would.
	ConnSession ConnPolicy = "session"
	// ConnShared shares one keep-alive pool among all sessions, as a proxy
	// or a NAT gateway in front of many users would.
	ConnShared ConnPolicy = "shared"
)

// ParseConnPolicy accepts fresh, session or shared.
func ParseConnPolicy(s string) (ConnPolicy, error) {
	switch p := ConnPolicy(s); p {
	case ConnFresh, ConnSession, ConnShared:
		return p, nil
	}
	return "", fmt.Errorf("connection policy %q: want fresh, session or shared", s)
}

// Spec is everything a probe run needs to know. The zero value is not
// usable; start from Default and override.
type Spec struct {
	Name     string     // the scenario's name; "" for a plain run
	URLs     []*url.URL // frontends, in the order given
	Resolve  []Resolve  // curl-style overrides of where a host:port connects
	Headers  []Header   // extra request headers
	Identify Identify   // how the backend of a response is recognised
	Token    Token      // what pins a session to its backend
	Conn     ConnPolicy

	Sessions        int // measured sessions
	ControlSessions int // sessions whose jar never stores anything; -1 = automatic
	Requests        int // requests per session

	Concurrency int           // requests in flight at most
	Rate        float64       // global requests per second; 0 = unlimited
	Think       time.Duration // pause between two requests of one session
	Timeout     time.Duration // per request, headers and body
	MaxDuration time.Duration // hard cap on the whole run
	Insecure    bool          // skip TLS verification
	Seed        int64         // 0 = random

	MinStickiness float64 // fraction of judged sessions that must stay sticky
	MaxErrorRate  float64 // fraction of requests allowed to fail

	// Topology: several LB nodes, source addresses, failover, the first
	// request race.
	Frontends       FrontendPolicy // how a session uses several frontends
	SourceIPs       SourceIPs      // local addresses sessions are bound to; empty = the system's choice
	SourceMoveAfter int            // move each measured session to another source address after this many requests; 0 = never
	Burst           int            // a session's first Burst requests are sent at once; 0 or 1 = none
	HTTP2           bool           // speak HTTP/2: h2c with prior knowledge on http, ALPN on https
	OnBackendLoss   LossPolicy     // what the LB should do when a session's backend disappears
	MinBackends     int            // backends the measured sessions must be pinned to; -1 = automatic, 0 = no check
	MaxImbalance    float64        // largest backend share of sessions ÷ fair share; 0 = no check

	// Phases of a scenario, in order; nil is one requests phase of
	// Requests per session. MaxDuration caps the time spent in requests
	// phases: exec, wait and pause phases have their own bounds.
	Phases []Phase
}

// Default returns the safe defaults: a run of about three seconds at a
// gentle rate that a production load balancer will not notice.
func Default() Spec {
	return Spec{
		Identify:        Identify{Kind: IdentifyAuto},
		Token:           Token{Kind: TokenAuto},
		Conn:            ConnFresh,
		Sessions:        50,
		ControlSessions: -1,
		Requests:        10,
		Concurrency:     20,
		Rate:            200,
		// An LB retrying a dead server and redispatching can take two or
		// three seconds; a probe that gives up first blames the wrong cause.
		Timeout:       10 * time.Second,
		MaxDuration:   2 * time.Minute,
		MinStickiness: 1,
		MaxErrorRate:  0,
		Frontends:     FrontendsPin,
		OnBackendLoss: LossFailoverStay,
		MinBackends:   -1,
	}
}

// Limits that keep a typo from becoming a load test.
const (
	MaxSessions    = 1_000_000
	MaxRequests    = 100_000
	MaxConcurrency = 10_000
	MaxBurst       = 64 // a browser opens 6 connections per host; HTTP/2 pages a few dozen streams
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("scenarios: invalid spec")

// Control returns the number of control sessions the spec asks for, with
// the automatic value resolved: 10% of the measured sessions, at least 3.
func (s Spec) Control() int {
	if s.ControlSessions >= 0 {
		return s.ControlSessions
	}
	n := (s.Sessions + 5) / 10
	if n < 3 {
		n = 3
	}
	return n
}

// Validate reports the first problem with the spec, naming the setting.
func (s Spec) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	switch {
	case len(s.URLs) == 0:
		return bad("no target URL given")
	case s.Sessions < 1 || s.Sessions > MaxSessions:
		return bad("--sessions %d: want 1..%d", s.Sessions, MaxSessions)
	case s.Requests < 1 || s.Requests > MaxRequests:
		return bad("--requests %d: want 1..%d", s.Requests, MaxRequests)
	case s.Concurrency < 1 || s.Concurrency > MaxConcurrency:
		return bad("--concurrency %d: want 1..%d", s.Concurrency, MaxConcurrency)
	case s.ControlSessions < -1 || s.ControlSessions > MaxSessions:
		return bad("--control %d: want -1 (auto), 0 (none) or a count", s.ControlSessions)
	case !(s.Rate >= 0): // also NaN, which --rate NaN would give
		return bad("--rate %g: want 0 (unlimited) or a positive number of requests per second", s.Rate)
	case s.Think < 0:
		return bad("--think %s: must not be negative", s.Think)
	case s.Timeout <= 0:
		return bad("--timeout %s: must be positive", s.Timeout)
	case s.MaxDuration <= 0:
		return bad("--max-duration %s: must be positive", s.MaxDuration)
	case !(s.MinStickiness >= 0 && s.MinStickiness <= 1):
		return bad("--min-stickiness %g: want a fraction between 0 and 1", s.MinStickiness)
	case !(s.MaxErrorRate >= 0 && s.MaxErrorRate <= 1):
		return bad("--max-error-rate %g: want a fraction between 0 and 1", s.MaxErrorRate)
	}
	switch s.Identify.Kind {
	case IdentifyAuto:
	case IdentifyHeader, IdentifyCookie:
		if s.Identify.Name == "" {
			return bad("--id %s: no name", s.Identify.Kind)
		}
	case IdentifyBody:
		if s.Identify.Pattern == nil {
			return bad("--id body: no pattern")
		}
	default:
		return bad("--id: unknown kind %q", s.Identify.Kind)
	}
	switch s.Token.Kind {
	case TokenAuto, TokenSource, TokenNone:
	case TokenCookie:
		if s.Token.Name == "" {
			return bad("--token cookie: no cookie name")
		}
	default:
		return bad("--token: unknown kind %q", s.Token.Kind)
	}
	for _, u := range s.URLs {
		if u.Scheme != "http" && u.Scheme != "https" {
			return bad("target %q: scheme must be http or https", u.String())
		}
		if u.Host == "" {
			return bad("target %q: no host", u.String())
		}
	}
	if _, err := ParseConnPolicy(string(s.Conn)); err != nil {
		return bad("--conn: %v", err)
	}
	if err := s.validateTopology(); err != nil {
		return err
	}
	return s.validatePhases()
}

// ParseURL parses a target URL, accepting "host:port/path" without a scheme
// as http, the way curl does.
func ParseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("empty target URL")
	}
	u, err := url.Parse(raw)
	if !strings.Contains(raw, "://") && (err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque != "")) {
		// "host:8080" parses as scheme "host", and "127.0.0.1:8080" or
		// "[::1]:8080" not at all; treat them as a bare host.
		u, err = url.Parse("http://" + raw)
	}
	if err != nil {
		return nil, fmt.Errorf("target %q: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("target %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("target %q: no host", raw)
	}
	// net/url takes any digits as a port; a dial would fail on every
	// request of the run.
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("target %q: port %s: want 1-65535", raw, p)
		}
	}
	if u.Path == "" {
		u.Path = "/"
	}
	// The probe requests u.String(). net/url accepts some hosts it cannot
	// print back (an IPv6 zone with raw non-ASCII bytes): refuse them here
	// rather than fail every request of the run.
	if _, err := url.Parse(u.String()); err != nil {
		return nil, fmt.Errorf("target %q: %v", raw, err)
	}
	return u, nil
}
