package lab

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Mistake is a broken HAProxy setup for the config checker: a preset, the
// id of the `stickyprobe check-config` finding its config must produce,
// the cause that finding predicts, and whether a plain probe run shows
// that cause (some need a server to die or a reload, which a plain run
// does not do).
type Mistake struct {
	Preset
	Finding string
	Cause   string // a report cause word; "" when the finding predicts none
	Shows   bool   // a plain run of Token against it shows Cause
	Token   string // the probe's --token; "" for auto
	// Think is the pause between a user's requests the finding and the
	// run need (cookie lifetimes); 0 for none.
	Think time.Duration
	// Starts is false for a config HAProxy refuses: only check-config
	// reads it.
	Starts bool
}

// sharedPrefixValues makes app session ids that share their first 13
// bytes, as ids of one app often do (a node prefix, a date): a stick
// table that keeps fewer bytes of the key mixes their users up.
func sharedPrefixValues() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("sessionprefix%019d", n.Add(1)) }
}

// Mistakes returns the broken setups, one per check-config finding the
// lab can render, in a fixed order. The result is a fresh copy.
func Mistakes() []Mistake {
	stick := func(table string) []string {
		return []string{table, "stick store-response res.cook(" + AppCookie + ")", "stick match req.cook(" + AppCookie + ")"}
	}
	app := BackendOptions{AppCookie: AppCookie, AppCookieValue: sharedPrefixValues()}
	m := func(name, desc string, cfg HAProxyConfig, finding, cause string, shows bool) Mistake {
		return Mistake{Preset: Preset{Name: name, Description: desc, Config: cfg}, Finding: finding, Cause: cause, Shows: shows, Starts: true}
	}
	out := []Mistake{
		m("cookie-tcp", "The textbook cookie in mode tcp: HAProxy ignores it.",
			HAProxyConfig{Mode: "tcp", Cookie: textbookCookie, ServerCookies: true}, "cookie-in-tcp-mode", "no-token", true),
		m("no-server-cookie", "A cookie line, no cookie value on the servers.",
			HAProxyConfig{Cookie: textbookCookie}, "server-without-cookie", "no-token", true),
		m("dynamic-no-key", "`dynamic` cookie values without a dynamic-cookie-key.",
			HAProxyConfig{Cookie: textbookCookie + " dynamic"}, "dynamic-without-key", "no-token", true),
		m("leastconn", "balance leastconn, no cookie, no stick rule.",
			HAProxyConfig{Balance: "leastconn"}, "no-persistence", "no-token", true),
		m("cookie-secure", "A secure cookie behind a plain-HTTP bind.",
			HAProxyConfig{Cookie: textbookCookie + " secure", ServerCookies: true}, "secure-without-ssl", "token-refused", true),
		m("cookie-domain", "A cookie domain that is not the probed host's.",
			HAProxyConfig{Cookie: textbookCookie + " domain .example.org", ServerCookies: true}, "domain-mismatch", "token-refused", true),
		m("samesite-none", "SameSite=None without secure.",
			HAProxyConfig{Cookie: textbookCookie + ` attr "SameSite=None"`, ServerCookies: true}, "samesite-none-without-secure", "token-refused", true),
		m("postonly", "A postonly cookie: GETs are never pinned.",
			HAProxyConfig{Cookie: "SERVERID insert indirect postonly", ServerCookies: true}, "postonly", "no-token", true),
		m("no-nocache", "An inserted cookie without nocache: a cache may share it.",
			HAProxyConfig{Cookie: "SERVERID insert indirect", ServerCookies: true}, "nocache-missing", "", false),
		m("ignore-persist", "ignore-persist on half the requests (rand): those are balanced whatever their cookie.",
			HAProxyConfig{Cookie: textbookCookie, ServerCookies: true, BackendLines: []string{"ignore-persist if { rand(2) -m int 0 }"}}, "ignore-persist", "token-ignored", true),
		m("stick-no-peers", "A stick table without peers: a reload empties it.",
			HAProxyConfig{BackendLines: stick("stick-table type string len 64 size 100k expire 30m")}, "stick-no-peers", "after-action", false),
		m("source-map-based", "balance source with map-based hashing.",
			HAProxyConfig{Balance: "source"}, "hash-map-based", "unexplained", false),
		m("redispatch", "option redispatch: failover-stay.",
			HAProxyConfig{Cookie: textbookCookie, ServerCookies: true, BackendLines: []string{"option redispatch"}}, "redispatch", "token-reassigned", false),
	}
	short := m("maxidle-short", "A cookie maxidle shorter than a user's pause.",
		HAProxyConfig{Cookie: textbookCookie + " maxidle 1s", ServerCookies: true}, "cookie-maxidle-short", "token-reassigned", true)
	short.Think = 5 * time.Second
	truncated := m("stick-key-truncated", "A stick table keeping 8 bytes of 32-byte session ids that share a prefix.",
		HAProxyConfig{Peers: true, BackendLines: stick("stick-table type string len 8 size 100k expire 30m peers " + PeersSection)}, "stick-key-truncated", "token-ignored", true)
	small := m("stick-table-small", "A stick table of 2 entries for many users.",
		HAProxyConfig{Peers: true, BackendLines: stick("stick-table type string len 64 size 2 expire 30m peers " + PeersSection)}, "stick-table-small", "token-ignored", true)
	for _, s := range []*Mistake{&truncated, &small} {
		s.Backend, s.Token = app, "cookie:"+AppCookie
	}
	appsession := m("appsession", "appsession, removed in HAProxy 1.6.",
		HAProxyConfig{BackendLines: []string{"appsession JSESSIONID len 52 timeout 3h"}}, "appsession", "no-token", false)
	appsession.Starts = false
	return append(out, short, truncated, small, appsession)
}
