package scenarios

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// FrontendPolicy says how a session uses a target's several frontends
// (several URLs, or one host name with several --resolve addresses: one
// service behind several load-balancer nodes).
type FrontendPolicy string

const (
	// FrontendsPin keeps each session on one frontend, spread in turn.
	FrontendsPin FrontendPolicy = "pin"
	// FrontendsRotate sends a session's requests to the frontends in
	// turn, as a client does whose DNS answers round robin.
	FrontendsRotate FrontendPolicy = "rotate"
	// FrontendsRandom picks a frontend for every request, at random (from
	// the run's seed), as after a VIP failover or a flaky resolver.
	FrontendsRandom FrontendPolicy = "random"
)

// ParseFrontendPolicy accepts pin, rotate or random.
func ParseFrontendPolicy(s string) (FrontendPolicy, error) {
	switch p := FrontendPolicy(s); p {
	case FrontendsPin, FrontendsRotate, FrontendsRandom:
		return p, nil
	}
	return "", fmt.Errorf("frontend policy %q: want pin, rotate or random", s)
}

// LossPolicy says what the load balancer is supposed to do when a
// session's backend disappears; the verdict judges what it did against it.
type LossPolicy string

const (
	// LossStrict: the LB answers with errors while the backend is gone and
	// never moves the session (HAProxy `option persist` without
	// `redispatch`). Any move is breakage.
	LossStrict LossPolicy = "strict"
	// LossFailoverStay: the LB moves the session to another backend and
	// keeps it there, even once the old one is back (HAProxy cookie
	// insert with `option redispatch`).
	LossFailoverStay LossPolicy = "failover-stay"
	// LossFailoverReturn: the LB moves the session and brings it back when
	// the old backend returns (hash-based persistence: `balance source`).
	LossFailoverReturn LossPolicy = "failover-return"
)

// ParseLossPolicy accepts strict, failover-stay or failover-return.
func ParseLossPolicy(s string) (LossPolicy, error) {
	switch p := LossPolicy(s); p {
	case LossStrict, LossFailoverStay, LossFailoverReturn:
		return p, nil
	}
	return "", fmt.Errorf("backend-loss policy %q: want strict, failover-stay or failover-return", s)
}

// MaxSourceIPs bounds a --source-ips pool: each address is a few bytes,
// but a typo in an IPv6 range must not ask for 2^64 of them.
const MaxSourceIPs = 1 << 16

// SourceIPs is a pool of local addresses sessions are bound to. String
// gives back the text it was parsed from, so reports and rerun commands
// show what the user wrote.
type SourceIPs struct {
	Addrs []netip.Addr
	text  string
}

func (s SourceIPs) String() string { return s.text }

// Len is the number of addresses in the pool.
func (s SourceIPs) Len() int { return len(s.Addrs) }

// ParseSourceIPs parses a comma-separated list of addresses and ranges:
// "127.0.0.2-127.0.0.60", "10.0.0.5,10.0.0.7", "::1", "fd00::1-fd00::ff".
// A range's ends are inclusive and of one family; the whole pool holds at
// most MaxSourceIPs distinct addresses.
func ParseSourceIPs(s string) (SourceIPs, error) {
	out := SourceIPs{text: strings.TrimSpace(s)}
	if out.text == "" {
		return SourceIPs{}, nil
	}
	seen := make(map[netip.Addr]bool)
	add := func(a netip.Addr) error {
		if seen[a] {
			return nil
		}
		if len(out.Addrs) >= MaxSourceIPs {
			return fmt.Errorf("--source-ips %q: more than %d addresses", s, MaxSourceIPs)
		}
		seen[a] = true
		out.Addrs = append(out.Addrs, a)
		return nil
	}
	for item := range strings.SplitSeq(out.text, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return SourceIPs{}, fmt.Errorf("--source-ips %q: empty item", s)
		}
		lo, hi, isRange := strings.Cut(item, "-")
		first, err := parseSourceAddr(s, lo)
		if err != nil {
			return SourceIPs{}, err
		}
		if !isRange {
			if err := add(first); err != nil {
				return SourceIPs{}, err
			}
			continue
		}
		last, err := parseSourceAddr(s, hi)
		if err != nil {
			return SourceIPs{}, err
		}
		switch {
		case first.Is4() != last.Is4():
			return SourceIPs{}, fmt.Errorf("--source-ips %q: range %s mixes IPv4 and IPv6", s, item)
		case last.Less(first):
			return SourceIPs{}, fmt.Errorf("--source-ips %q: range %s ends before it starts", s, item)
		}
		for a := first; ; a = a.Next() {
			if err := add(a); err != nil {
				return SourceIPs{}, err
			}
			if a == last {
				break
			}
		}
	}
	return out, nil
}

func parseSourceAddr(all, s string) (netip.Addr, error) {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("--source-ips %q: %q is not an IP address", all, s)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("--source-ips %q: %q: zones are not supported", all, s)
	}
	if a.Is4In6() {
		a = a.Unmap()
	}
	return a, nil
}

// validateTopology checks the settings of several frontends, source
// addresses, bursts and the backend-loss expectation.
func (s Spec) validateTopology() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	if _, err := ParseFrontendPolicy(string(s.Frontends)); err != nil {
		return bad("--frontends: %v", err)
	}
	if _, err := ParseLossPolicy(string(s.OnBackendLoss)); err != nil {
		return bad("--on-backend-loss: %v", err)
	}
	switch {
	case s.MinBackends < -1:
		return bad("--min-backends %d: want -1 (automatic), 0 (no check) or a count", s.MinBackends)
	case !(s.MaxImbalance == 0 || s.MaxImbalance >= 1):
		// also NaN
		return bad("--max-imbalance %g: want 0 (no check) or a ratio of at least 1 (largest share ÷ fair share; 1 is a perfectly even spread)", s.MaxImbalance)
	case s.Burst < 0 || s.Burst > MaxBurst:
		return bad("--burst %d: want 0 (none) to %d", s.Burst, MaxBurst)
	case s.Burst > s.Concurrency:
		return bad("--burst %d: a burst's requests are all in flight at once, so it needs --concurrency %d or more (it is %d)", s.Burst, s.Burst, s.Concurrency)
	case s.SourceMoveAfter < 0:
		return bad("--source-move-after %d: must not be negative", s.SourceMoveAfter)
	case s.SourceMoveAfter > 0 && s.SourceIPs.Len() < 2:
		return bad("--source-move-after needs at least two addresses in --source-ips to move sessions between")
	case s.SourceIPs.Len() > 0 && s.Conn == ConnShared:
		return bad("--source-ips with --conn shared: one shared pool would send a session's requests from other sessions' addresses; use --conn fresh or session")
	case s.HTTP2 && s.Conn == ConnShared:
		return bad("--http2 with --conn shared is not supported; use --conn fresh or session")
	}
	if s.Burst > 1 {
		for _, p := range s.Plan() {
			if p.Kind != PhaseRequests {
				continue
			}
			if p.Requests > 0 && p.Requests < s.Burst {
				return bad("--burst %d: the first requests phase sends only %d requests per session; the burst is part of them", s.Burst, p.Requests)
			}
			break
		}
	}
	return s.checkSourceFamily()
}

// checkSourceFamily refuses a source pool that cannot reach a target: an
// IPv4 source cannot connect to an IPv6 address, nor the reverse, and
// every request of the run would fail on it.
func (s Spec) checkSourceFamily() error {
	if s.SourceIPs.Len() == 0 {
		return nil
	}
	has4, has6 := false, false
	for _, a := range s.SourceIPs.Addrs {
		has4, has6 = has4 || a.Is4(), has6 || !a.Is4()
	}
	for _, u := range s.URLs {
		for _, a := range s.dialAddrs(u) {
			if (a.Is4() && !has4) || (!a.Is4() && !has6) {
				return fmt.Errorf("%w: --source-ips %s: no address of the family of %s (target %s)", ErrInvalid, s.SourceIPs, a, u.Redacted())
			}
		}
	}
	return nil
}

// Node is one load-balancer node of the target: a URL and, when --resolve
// gives several addresses for its host and port, one of those addresses.
type Node struct {
	URL  *url.URL
	Addr netip.Addr // the --resolve address; invalid when the URL's host is dialed (or one address is given)
	Port int
}

// Nodes lists the target's nodes in order: each URL, and a URL whose host
// and port --resolve maps to several addresses once per address, in the
// order given. One service behind several LB nodes is either several URLs
// or one name that resolves to several addresses, as with DNS round robin.
func (s Spec) Nodes() []Node {
	var out []Node
	for _, u := range s.URLs {
		host, port := hostPort(u)
		var addrs []netip.Addr
		for _, r := range s.Resolve {
			if r.Host == host && r.Port == port {
				if a, err := netip.ParseAddr(r.Addr); err == nil && !slices.Contains(addrs, a) {
					addrs = append(addrs, a)
				}
			}
		}
		if len(addrs) < 2 {
			out = append(out, Node{URL: u, Port: port})
			continue
		}
		for _, a := range addrs {
			out = append(out, Node{URL: u, Addr: a, Port: port})
		}
	}
	return out
}

// dialAddrs are the addresses the probe connects to for u, where they are
// known without a DNS lookup: the --resolve entries for its host and port,
// or its host when that is an IP address.
func (s Spec) dialAddrs(u *url.URL) []netip.Addr {
	host, port := hostPort(u)
	var out []netip.Addr
	for _, r := range s.Resolve {
		if r.Host == host && r.Port == port {
			if a, err := netip.ParseAddr(r.Addr); err == nil {
				out = append(out, a.Unmap())
			}
		}
	}
	if len(out) == 0 {
		if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil && a.Zone() == "" {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// hostPort is u's host, lower-cased as --resolve keeps it, and its port
// (the scheme's default when it has none).
func hostPort(u *url.URL) (string, int) {
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			port = n
		}
	}
	return strings.ToLower(u.Hostname()), port
}
