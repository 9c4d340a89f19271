package lab

import (
	"errors"
	"fmt"
	"strings"
)

// HAProxyConfig describes the one backend section a lab HAProxy proxies to.
// Render turns it into a complete haproxy.cfg; everything else (global,
// defaults, frontend) is fixed so the interesting part stays easy to read.
type HAProxyConfig struct {
	Mode          string   // "http" (default) or "tcp"
	Balance       string   // "roundrobin" (default), "source", ...
	Cookie        string   // text after `cookie ` in the backend, e.g. "SERVERID insert indirect nocache"; empty = no cookie directive
	ServerCookies bool     // add `cookie sN` (s1, s2, ...) to each server line
	BackendLines  []string // extra lines in the backend section, e.g. "stick-table type ip size 1m", "stick on src"
	Servers       int      // how many of the given backends to use (0 = all)

	// CookiePrefix is put before each server cookie value: with "b" the
	// servers get cookies bs1, bs2, ... instead of s1, s2, ... Two nodes in
	// front of the same backends with different prefixes disagree about
	// every cookie, as LB nodes configured by hand often do. It needs
	// ServerCookies and must be made of cookie-value characters.
	CookiePrefix string

	// BindAddr is the address the frontend listens on: "" means
	// 127.0.0.1; any other address must be in 127.0.0.0/8 (Linux routes
	// all of it to lo), e.g. 127.0.0.2 for a second node that looks like
	// another host. IPv6 is not supported.
	BindAddr string
	// Port is the frontend port StartHAProxy binds; 0 picks a free one.
	// A fixed port lets two nodes listen on 127.0.0.1:P and 127.0.0.2:P,
	// one name with two addresses as with DNS round robin over LB nodes.
	// When set, Render's listenPort must equal it.
	Port int

	// Peers adds a `peers` section (named PeersSection) with this process
	// as its only, local peer, listening on 127.0.0.1:PeersPort, so a stick
	// table declared with `peers lab` is handed over on Reload.
	// StartHAProxy picks PeersPort when it is 0.
	Peers     bool
	PeersPort int

	// HTTPLog makes HAProxy log every request in its HTTP log format
	// (`option httplog`; `option tcplog` in mode tcp) to fd 3, which
	// StartHAProxy opens on HTTPLogPath (appending), or on a file in a
	// private temp dir when that is empty (see HAProxy.RequestLog). The
	// frontend captures the probe's mark header (MarkHeader), so each line
	// names the probe request it was. The presets set it.
	HTTPLog     bool
	HTTPLogPath string

	// StatsSocket adds a Runtime API socket to the global section
	// (`stats socket PATH mode 600 level StatsLevel`), at StatsSocketPath
	// (StartHAProxy picks a short private one when it is empty; see
	// HAProxy.StatsSocket), or "ipv4@127.0.0.1:PORT" for TCP on loopback. StatsLevel is "operator" (default) or "user",
	// which HAProxy 2.6 lets see stats and server states but not stick
	// table contents.
	StatsSocket     bool
	StatsSocketPath string
	StatsLevel      string
}

// MarkHeader is the request header the lab's frontends capture into the
// HTTP log: the probe puts its run, session and request number there.
const MarkHeader = "X-Stickyprobe-Mark"

// httpLogFD is the descriptor haproxy logs to: the first of exec.Cmd's
// ExtraFiles.
const httpLogFD = 3

// PeersSection is the name of the peers section Peers adds; a stick table
// joins it with `stick-table ... peers lab`.
const PeersSection = "lab"

// localPeer is the lab's peer name, given to haproxy with -L so it knows
// which peer of the section it is.
const localPeer = "stickyprobe-lab"

// Render returns the full haproxy.cfg for a frontend on BindAddr:listenPort
// (127.0.0.1 by default) in front of backends. Server names are the
// backends' names; cookie values (when ServerCookies is set) are
// CookiePrefix+"s1".."sN", deliberately different from the names so tests
// can tell a server's identity from its sticky token. With the new fields
// unset the output is what it was before they existed.
func (c HAProxyConfig) Render(listenPort int, backends []*Backend) (string, error) {
	mode := c.Mode
	if mode == "" {
		mode = "http"
	}
	if mode != "http" && mode != "tcp" {
		return "", fmt.Errorf("lab: haproxy mode %q: want \"http\" or \"tcp\"", c.Mode)
	}
	balance := c.Balance
	if balance == "" {
		balance = "roundrobin"
	}
	if listenPort < 1 || listenPort > 65535 {
		return "", fmt.Errorf("lab: listen port %d out of range", listenPort)
	}
	if c.Port != 0 && c.Port != listenPort {
		return "", fmt.Errorf("lab: config asks for port %d but is rendered for %d", c.Port, listenPort)
	}
	host, err := loopbackHost(c.BindAddr)
	if err != nil {
		return "", err
	}
	if c.CookiePrefix != "" && !c.ServerCookies {
		return "", fmt.Errorf("lab: CookiePrefix %q without ServerCookies has no effect", c.CookiePrefix)
	}
	if !validCookieValue(c.CookiePrefix) {
		return "", fmt.Errorf("lab: CookiePrefix %q: only cookie-value characters (no spaces, quotes, commas, semicolons or backslashes)", c.CookiePrefix)
	}
	if len(backends) == 0 {
		return "", errors.New("lab: haproxy needs at least one backend")
	}
	// The peer listens on 127.0.0.1 whatever BindAddr is.
	if c.Peers && (c.PeersPort < 1 || c.PeersPort > 65535 || (c.PeersPort == listenPort && host == defaultBindAddr)) {
		return "", fmt.Errorf("lab: peers port %d: want a free port other than the frontend's", c.PeersPort)
	}
	stats, err := c.statsLine()
	if err != nil {
		return "", err
	}
	n := c.Servers
	if n < 0 || n > len(backends) {
		return "", fmt.Errorf("lab: Servers=%d but %d backends given", c.Servers, len(backends))
	}
	if n == 0 {
		n = len(backends)
	}
	// Every free-form field ends up on one config line; a newline would let
	// it inject arbitrary directives into another section.
	for _, s := range append([]string{balance, c.Cookie}, c.BackendLines...) {
		if strings.ContainsAny(s, "\r\n") {
			return "", fmt.Errorf("lab: haproxy config value %q contains a line break", s)
		}
	}

	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# Generated by stickyprobe lab: one frontend on %s, one backend.", host)
	line("global")
	line("    maxconn 4096")
	line("    # Fail loudly if the port is taken instead of silently sharing it")
	line("    # with another haproxy (SO_REUSEPORT is HAProxy's default).")
	line("    noreuseport")
	if c.HTTPLog {
		line("    # Every request, in HAProxy's own words, to a file the lab reads.")
		line("    log fd@%d format raw local0", httpLogFD)
	}
	if stats != "" {
		line("    # The Runtime API, for stickyprobe --haproxy-socket.")
		line("    %s", stats)
	}
	line("")
	line("defaults")
	line("    mode %s", mode)
	if c.HTTPLog {
		line("    log global")
		if mode == "http" {
			line("    option httplog")
		} else {
			line("    option tcplog")
		}
	}
	line("    timeout connect 2s")
	line("    timeout client 30s")
	line("    timeout server 30s")
	line("    retries 2")
	line("")
	if c.Peers {
		line("# The local peer: on a reload the old process pushes its stick tables")
		line("# to the new one through it (haproxy runs with -L %s).", localPeer)
		line("peers %s", PeersSection)
		line("    peer %s %s", localPeer, loopbackAddr(c.PeersPort))
		line("")
	}
	line("frontend fe_main")
	line("    bind %s", hostPort(host, listenPort))
	if c.HTTPLog && mode == "http" {
		line("    capture request header %s len 96", MarkHeader)
	}
	line("    default_backend be_app")
	line("")
	line("backend be_app")
	line("    balance %s", balance)
	if cookie := strings.TrimSpace(c.Cookie); cookie != "" {
		line("    cookie %s", cookie)
	}
	for _, l := range c.BackendLines {
		if l = strings.TrimSpace(l); l != "" {
			line("    %s", l)
		}
	}
	for i, be := range backends[:n] {
		if be == nil {
			return "", fmt.Errorf("lab: backend %d is nil", i)
		}
		server := fmt.Sprintf("    server %s %s check inter 500ms", be.Name(), be.Addr())
		if c.ServerCookies {
			server += fmt.Sprintf(" cookie %ss%d", c.CookiePrefix, i+1)
		}
		line("%s", server)
	}
	return b.String(), nil
}

// validCookieValue reports whether s consists of RFC 6265 cookie-octets,
// so it can go on a server line and into a Set-Cookie header unquoted.
func validCookieValue(s string) bool {
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch <= 0x20, ch >= 0x7f, ch == '"', ch == ',', ch == ';', ch == '\\':
			return false
		}
	}
	return true
}

// Preset is a named HAProxyConfig with a one-line explanation for newcomers.
type Preset struct {
	Name        string
	Description string
	Config      HAProxyConfig
	Backend     BackendOptions // what the backends behind this config must do
}

// AppCookie is the application session cookie the stick-app-cookie
// preset's backends set and its stick table learns.
const AppCookie = "APPSESSION"

// textbookCookie is the textbook cookie-insert line of HAProxy's manual and of most tutorials.
const textbookCookie = "SERVERID insert indirect nocache"

// Presets returns the textbook sticky setup, classic mistakes, and a stick
// table set-up for restart and reload tests, in a fixed order. Start a
// preset's backends with its Backend options. The result is a fresh copy;
// callers may modify it.
func Presets() []Preset {
	ps := []Preset{
		{
			Name:        "textbook",
			Description: "Round-robin; HAProxy inserts a SERVERID cookie (s1..sN) and sends returning clients back to that server.",
			Config:      HAProxyConfig{Balance: "roundrobin", Cookie: textbookCookie, ServerCookies: true},
		},
		{
			Name:        "redispatch",
			Description: "Textbook plus `option redispatch`: when a server dies, its users are sent to another one and stay there.",
			Config:      HAProxyConfig{Balance: "roundrobin", Cookie: textbookCookie, ServerCookies: true, BackendLines: []string{"option redispatch"}},
		},
		{
			Name:        "no-cookie",
			Description: "Round-robin with no cookie directive: nothing pins a client, each new connection may land elsewhere.",
			Config:      HAProxyConfig{Balance: "roundrobin"},
		},
		{
			Name:        "no-server-cookie",
			Description: "A cookie directive but no `cookie <value>` on the server lines: HAProxy has no token to hand out, so nothing pins.",
			Config:      HAProxyConfig{Balance: "roundrobin", Cookie: textbookCookie},
		},
		{
			Name:        "single-backend",
			Description: "Only one server behind the balancer: every request lands there, so stickiness cannot be observed at all.",
			Config:      HAProxyConfig{Balance: "roundrobin", Servers: 1},
		},
		{
			Name:        "cookie-domain",
			Description: "Textbook, but the cookie is scoped to .example.org, so clients on another host never send it back.",
			Config:      HAProxyConfig{Balance: "roundrobin", Cookie: textbookCookie + " domain .example.org", ServerCookies: true},
		},
		{
			Name:        "cookie-secure",
			Description: "Textbook, but the cookie is marked secure, so clients only send it back over HTTPS, never over plain HTTP.",
			Config:      HAProxyConfig{Balance: "roundrobin", Cookie: textbookCookie + " secure", ServerCookies: true},
		},
		{
			Name:        "stick-app-cookie",
			Description: "A stick table learns the app's own session cookie; `peers` lets a reload keep the table, a restart loses it.",
			Config: HAProxyConfig{Balance: "roundrobin", Peers: true, BackendLines: []string{
				"stick-table type string len 64 size 100k expire 30m peers " + PeersSection,
				"stick store-response res.cook(" + AppCookie + ")",
				"stick match req.cook(" + AppCookie + ")",
			}},
			Backend: BackendOptions{AppCookie: AppCookie},
		},
		{
			Name:        "source",
			Description: "balance source: the client IP picks the server, so it sticks without cookies (and everyone behind one NAT shares a server).",
			Config:      HAProxyConfig{Balance: "source"},
		},
	}
	for i := range ps {
		ps[i].Config.HTTPLog = true
	}
	return ps
}

// PresetByName finds a preset by its exact name.
func PresetByName(name string) (Preset, bool) {
	for _, p := range Presets() {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}
