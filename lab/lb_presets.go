package lab

// LBPreset is a named config for any load balancer kind, with a one-line
// explanation for newcomers. HAProxy's presets (Presets) appear here too,
// so one list covers every kind the lab runs.
type LBPreset struct {
	Name        string
	Description string
	Config      LBConfig
	Backend     BackendOptions // what the backends behind this config must do
}

// Kind is the load balancer kind the preset runs: "haproxy", "nginx",
// "caddy" or "apache".
func (p LBPreset) Kind() string { return p.Config.LBKind() }

// CaddySecret is the secret of the caddy-cookie preset; CaddyOtherSecret
// is another node's, for two nodes that disagree.
const (
	CaddySecret      = "lab-secret-a"
	CaddyOtherSecret = "lab-secret-b"
)

// apacheRouteCookie is the Set-Cookie line Apache's documentation gives
// for stickysession=ROUTEID: the route after a ".".
const apacheRouteCookie = "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/"

// LBPresets returns HAProxy's presets, then nginx's, Caddy's and
// Apache's good and broken setups, in a fixed order. The result is a
// fresh copy.
func LBPresets() []LBPreset {
	var out []LBPreset
	for _, p := range Presets() {
		out = append(out, LBPreset{Name: p.Name, Description: p.Description, Config: p.Config, Backend: p.Backend})
	}
	app := BackendOptions{AppCookie: AppCookie}
	return append(out,
		LBPreset{Name: "nginx-hash-cookie",
			Description: "nginx `hash $cookie_" + AppCookie + " consistent` on the app's session cookie: a user's first request has no cookie, so the server that creates the session is often not the one the hash picks next.",
			Config:      NginxConfig{Upstream: []string{"hash $cookie_" + AppCookie + " consistent"}}, Backend: app},
		LBPreset{Name: "nginx-hash-remote-addr",
			Description: "nginx `hash $remote_addr consistent`: the client address picks the server, so it sticks without cookies.",
			Config:      NginxConfig{Upstream: []string{"hash $remote_addr consistent"}}},
		LBPreset{Name: "nginx-ip-hash",
			Description: "nginx `ip_hash`: keyed on the first three octets of an IPv4 address, so a whole /24 shares one server.",
			Config:      NginxConfig{Upstream: []string{"ip_hash"}}},
		LBPreset{Name: "nginx-round-robin",
			Description: "nginx's default round robin: nothing pins a client.",
			Config:      NginxConfig{}},
		LBPreset{Name: "nginx-next-upstream",
			Description: "nginx `hash $remote_addr consistent` with `proxy_next_upstream error timeout http_502`: a failed server's users are retried on another one, which keeps them for `fail_timeout` (30 s).",
			Config: NginxConfig{Upstream: []string{"hash $remote_addr consistent"}, ServerParams: "max_fails=1 fail_timeout=30s",
				Location: []string{"proxy_next_upstream error timeout http_502", "proxy_connect_timeout 1s"}}},
		LBPreset{Name: "caddy-cookie",
			Description: "Caddy `lb_policy cookie lb SECRET`: the cookie's value is an HMAC of the upstream's address, not its name.",
			Config:      CaddyConfig{LBPolicy: "cookie lb " + CaddySecret}},
		LBPreset{Name: "caddy-cookie-tls",
			Description: "caddy-cookie over https (a certificate from Caddy's internal CA: probe it with --insecure): Caddy 2.6 sets the same cookie, without Secure or SameSite.",
			Config:      CaddyConfig{LBPolicy: "cookie lb " + CaddySecret, TLS: true}},
		LBPreset{Name: "caddy-round-robin",
			Description: "Caddy `lb_policy round_robin`: nothing pins a client.",
			Config:      CaddyConfig{LBPolicy: "round_robin"}},
		LBPreset{Name: "caddy-ip-hash",
			Description: "Caddy `lb_policy ip_hash`: the client address picks the server, so it sticks without cookies.",
			Config:      CaddyConfig{LBPolicy: "ip_hash"}},
		LBPreset{Name: "apache-routeid",
			Description: "Apache mod_proxy_balancer `stickysession=ROUTEID`, the cookie set to `.<route>` as the manual shows: returning clients go back to their route.",
			Config:      ApacheConfig{StickySession: "ROUTEID", SetCookie: apacheRouteCookie}},
		LBPreset{Name: "apache-route-no-dot",
			Description: "Apache `stickysession=ROUTEID`, but the cookie set to `s2` instead of `.s2`: the route is read after a `.`, so the balancer finds none, balances again and sets a new cookie every time.",
			Config:      ApacheConfig{StickySession: "ROUTEID", SetCookie: "ROUTEID=%{BALANCER_WORKER_ROUTE}e; path=/"}},
		LBPreset{Name: "apache-unset-cookie",
			Description: "Apache `stickysession=JSESSIONID`, a cookie nothing sets: nothing pins a client.",
			Config:      ApacheConfig{StickySession: "JSESSIONID"}},
	)
}

// LBPresetByName finds a preset of any kind by its exact name.
func LBPresetByName(name string) (LBPreset, bool) {
	for _, p := range LBPresets() {
		if p.Name == name {
			return p, true
		}
	}
	return LBPreset{}, false
}
