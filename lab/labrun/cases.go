package labrun

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

// Case is one row of the lab: a preset, what the probe does against it,
// and the verdict a correct probe gives it against that load balancer.
type Case struct {
	lab.LBPreset
	Expect report.Verdict
	// Node, if set, is a second node in front of the same backends; the
	// probe rotates over both.
	Node lab.LBConfig
	Spec func(*scenarios.Spec) // changes to the probe's spec
}

// Sources are the source addresses the lab's source-persistence rows
// bind sessions to: Linux routes all of 127.0.0.0/8 to lo. All in one
// /24, which nginx's ip_hash treats as one client.
const Sources = "127.0.0.2-127.0.0.41"

// Sources24 are 40 source addresses in 40 different /24s.
func Sources24() string {
	var addrs []string
	for i := 1; i <= 40; i++ {
		addrs = append(addrs, "127.0."+strconv.Itoa(i)+".2")
	}
	return strings.Join(addrs, ",")
}

// Kinds are the load balancer kinds the lab runs, in row order.
var Kinds = []string{"haproxy", "nginx", "caddy", "apache"}

// KindNames are the load balancers' names as their users write them.
var KindNames = map[string]string{"haproxy": "HAProxy", "nginx": "nginx", "caddy": "Caddy", "apache": "Apache"}

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

// Cases are every row of the lab, in order.
func Cases() []Case {
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
		"source":                 bySource(Sources, -1),
		"nginx-hash-cookie":      byCookie(lab.AppCookie),
		"nginx-hash-remote-addr": bySource(Sources, -1),
		"nginx-ip-hash":          bySource(Sources24(), -1),
		"caddy-ip-hash":          bySource(Sources, -1),
	}
	var out []Case
	for _, p := range lab.LBPresets() {
		v, ok := expect[p.Name]
		if !ok {
			continue // a preset for --serve and the tests only
		}
		if p.Name == "source" {
			p.Description = "balance source from 40 client addresses: the address picks the server, so it sticks without cookies."
		}
		out = append(out, Case{LBPreset: p, Expect: v, Spec: specs[p.Name]})
		out = append(out, extraCases(p)...)
	}
	return out
}

// extraCases are the rows that run preset p another way: behind one
// NAT, from one /24, or as two nodes that disagree.
func extraCases(p lab.LBPreset) []Case {
	variant := func(name, desc string) lab.LBPreset {
		return lab.LBPreset{Name: name, Description: desc, Config: p.Config, Backend: p.Backend}
	}
	switch p.Name {
	case "source":
		return []Case{{LBPreset: variant("source-nat",
			"balance source, every user behind one NAT (one address): all on one server; the spread check fails."),
			Expect: report.Fail, Spec: bySource("", 3)}}
	case "textbook":
		node := p.Config.(lab.HAProxyConfig)
		node.CookiePrefix = "b"
		return []Case{{LBPreset: variant("nodes-disagree",
			"Two textbook LB nodes whose `cookie` values differ (s1 vs bs1): a user moving between them changes server."),
			Expect: report.Fail, Node: node, Spec: rotate}}
	case "nginx-ip-hash":
		return []Case{{LBPreset: variant("nginx-ip-hash-one-24",
			"nginx `ip_hash` with 40 users in one /24 (127.0.0.2-41): ip_hash keys on three octets, so all share one server."),
			Expect: report.Fail, Spec: bySource(Sources, 3)}}
	case "caddy-cookie":
		node := p.Config.(lab.CaddyConfig)
		node.LBPolicy = "cookie lb " + lab.CaddyOtherSecret
		return []Case{{LBPreset: variant("caddy-nodes-secrets",
			"Two Caddy nodes with `lb_policy cookie` and different secrets: each takes the other's cookie for an unknown value and picks again."),
			Expect: report.Fail, Node: node, Spec: rotate}}
	}
	return nil
}

func rotate(s *scenarios.Spec) { s.Frontends = scenarios.FrontendsRotate }

// Select picks rows by name and by load balancer kind; none of either
// means all. Its errors name the `stickyprobe lab` flags (--config,
// --lb) the names and kinds come from.
func Select(names, kinds []string) ([]Case, error) {
	for _, k := range kinds {
		if !slices.Contains(Kinds, k) {
			return nil, fmt.Errorf("--lb %q: want one of %s", k, strings.Join(Kinds, ", "))
		}
	}
	all := Cases()
	if len(kinds) > 0 {
		all = slices.DeleteFunc(all, func(lc Case) bool { return !slices.Contains(kinds, lc.Kind()) })
	}
	if len(names) == 0 {
		return all, nil
	}
	var out []Case
	for _, n := range names {
		i := slices.IndexFunc(all, func(lc Case) bool { return lc.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("--config %q: unknown (or not of --lb's kinds); see `stickyprobe lab --help` for the list", n)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// NeedLBs checks that the binary of every kind the cases run is
// installed, before anything starts, so a missing one costs nothing and
// its install hint is the error.
func NeedLBs(cases []Case) error {
	for _, kind := range Kinds {
		if slices.ContainsFunc(cases, func(lc Case) bool { return lc.Kind() == kind }) {
			if _, err := lab.FindLB(kind); err != nil {
				return err
			}
		}
	}
	return nil
}
