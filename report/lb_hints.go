package report

// The hints of each cause in the words of nginx, Caddy and Apache, and
// in no product's words (generic). What they say the load balancer does
// was measured on nginx 1.22, Caddy 2.6 and Apache 2.4 (see the lab).

var genericHints = map[Cause]string{
	CauseNoToken: "The LB never set an affinity cookie and nothing else pinned the session: turn on the LB's " +
		"session persistence (a cookie it inserts, or hashing on something every request carries).",
	CauseTokenRefused: "The LB set the cookie but a browser refuses it. Check its Domain (it must match the host users " +
		"open), Secure (needs https) and Path.",
	CauseTokenNotSent: "The client held the cookie but did not send it on this URL: its Path is narrower than the " +
		"application, or it expired (Max-Age/Expires).",
	CauseTokenIgnored: "The client sent the cookie, another server answered and no new cookie was set: the LB does not " +
		"route on this cookie (wrong name, value it does not know) or does not for this request.",
	CauseTokenReassigned: "The client sent the cookie but the LB chose another server and set a new cookie: it took the " +
		"pinned server out (down, draining, removed) or did not recognise the value (changed by a deploy, another node's).",
	CauseAfterAction: "The session was sticky until a scenario step (a restart, reload or deploy) and changed backend " +
		"after it: the LB kept persistence state in memory, or the deploy changed the servers or their cookie values.",
	CauseAfterError: "The switch followed a failed request: the pinned server failed or was overloaded and the LB " +
		"failed over. Check the server's health and the LB's retry settings.",
	CauseFrontendChanged: "The session changed backend when it moved to another LB node: the nodes do not agree on " +
		"persistence. Give every node the same servers, cookie values or secrets, and hash settings.",
	CauseSourceChanged: "The session changed backend when its client address changed: source-address persistence " +
		"cannot follow a user behind a NAT that changed, a proxy chain or a mobile network. Use cookie persistence.",
	CauseBirthSplit: "The session's first requests, sent at once before any Set-Cookie came back (as a browser loads " +
		"a page), went to different servers. Give the page a landing request that sets the cookie first, or balance " +
		"on something every first request carries.",
	CauseUnexplained: "No evidence explains the switch: the LB does not apply persistence to this traffic, or a server " +
		"going down or coming back remapped hashed users. Use `--id` to name the backend reliably, and `--lb` for " +
		"hints in your LB's terms.",
}

var nginxHints = map[Cause]string{
	CauseNoToken: "Nothing pinned the session: open-source nginx has no `sticky` directive and balances round robin " +
		"by default. Pin in the `upstream` block with `hash $cookie_<app session cookie> consistent`, " +
		"`hash $remote_addr consistent` or `ip_hash` (`sticky cookie` is nginx Plus only).",
	CauseTokenRefused: "nginx sets no persistence cookie itself: the refused cookie comes from the application or an " +
		"`add_header Set-Cookie`. Check its Domain (`proxy_cookie_domain`), Secure (`proxy_cookie_flags`, needs https) " +
		"and Path (`proxy_cookie_path`).",
	CauseTokenIgnored: "The client sent the cookie and another server answered: nginx hashes a key, it does not read " +
		"which server a cookie belongs to. With `hash $cookie_NAME consistent` a user's first request has no cookie and " +
		"nginx 1.22 falls back to round robin, so the server that created the session is not the one the hash picks " +
		"from request 2 on (2 users in 3 with three servers): hash on what the first request carries, or share sessions " +
		"between the servers.",
	CauseTokenReassigned: "The client sent the cookie and the application set a new one on another server: nginx " +
		"moved the user (`proxy_next_upstream` retried on the next server, `max_fails`/`fail_timeout` took the " +
		"pinned one out, or the `server` lines changed) and the app started a new session.",
	CauseAfterAction: "The session was sticky until a scenario step (a restart, `nginx -s reload` or deploy) and " +
		"changed backend after it. nginx's hashing keeps no state, so restarts and reloads keep users in place unless " +
		"the `upstream` block changed: with `hash ... consistent` a removed `server` moves only its own users and " +
		"a reorder moves nobody; plain `hash` is modulo the list, so a reorder or a removal moves users of the " +
		"other servers too.",
	CauseAfterError: "The switch followed a failed request: `proxy_next_upstream` (default `error timeout`) sent it " +
		"to the next server, and `max_fails`/`fail_timeout` keep the failed one out for `fail_timeout`. " +
		"`proxy_next_upstream off` answers that request with a 502 instead of retrying it; the user still moves " +
		"once nginx counts the server failed (`max_fails`).",
	CauseFrontendChanged: "The session changed backend when it moved to another nginx node: the nodes hash " +
		"differently. Give every node the same `upstream` block: the same `server` addresses, weights and hash " +
		"key, with `consistent` on all of them (without it, the same order too).",
	CauseSourceChanged: "The session changed backend when its client address changed: `ip_hash` and " +
		"`hash $remote_addr` cannot follow a user behind a NAT that changed, a proxy chain or a mobile network " +
		"(and `ip_hash` keys on the first three octets of an IPv4 address, so a whole /24 shares one server). " +
		"Hash on a cookie the client keeps (`hash $cookie_NAME consistent`).",
	CauseBirthSplit: "The session's first requests, sent at once before any Set-Cookie came back, went to different " +
		"servers: with `hash $cookie_NAME` cookieless requests are balanced round robin. Give the page a landing " +
		"request that sets the cookie first, or hash on what every first request carries (`$remote_addr`).",
	CauseUnexplained: "No evidence explains the switch: round robin (the default), `least_conn` and `random` do not " +
		"pin, and with `hash` without `consistent` a server going down or coming back remaps users of the other " +
		"servers too. Use `--id` to name the backend reliably.",
}

var caddyHints = map[Cause]string{
	CauseNoToken: "Nothing pinned the session: Caddy's `reverse_proxy` balances `lb_policy random` by default, and " +
		"`round_robin`, `least_conn` do not pin either. Use `lb_policy cookie [name] [secret]` (or `ip_hash`, " +
		"`header`).",
	CauseTokenRefused: "Caddy set the cookie but the client refuses it: check the cookie's Domain, Secure (needs " +
		"https) and Path, and whether the application, not `lb_policy cookie`, set it.",
	CauseTokenIgnored: "The client sent the cookie and another server answered without a new cookie: Caddy does not " +
		"route on this cookie. Check that `lb_policy cookie` names it (the default name is `lb`).",
	CauseTokenReassigned: "Caddy set a new `lb_policy cookie` value over the one sent: the value is an HMAC of the " +
		"upstream's address keyed by the secret, so a changed secret, an upstream address written differently or an " +
		"unhealthy upstream makes the value unknown and Caddy picks again.",
	CauseAfterAction: "The session was sticky until a scenario step (a restart, `caddy reload` or deploy) and changed " +
		"backend after it. The cookie's HMAC survives restarts and reloads (measured on Caddy 2.6) unless the " +
		"`lb_policy cookie` secret or the upstream addresses changed.",
	CauseAfterError: "The switch followed a failed request: Caddy retried it on another upstream (`lb_try_duration`) " +
		"or passive health checks (`fail_duration`, `max_fails`) took the pinned one out. Without them Caddy 2.6 " +
		"keeps sending a dead upstream's users there: 502s, no move.",
	CauseFrontendChanged: "The session changed backend when it moved to another Caddy node: nodes with different " +
		"`lb_policy cookie` secrets (or upstream addresses written differently) take each other's cookies for unknown " +
		"values. Give every node the same secret and the same upstream addresses.",
	CauseSourceChanged: "The session changed backend when its client address changed: `lb_policy ip_hash` cannot " +
		"follow a user behind a NAT that changed, a proxy chain or a mobile network. Use `lb_policy cookie`.",
	CauseBirthSplit: "The session's first requests, sent at once before the `lb_policy cookie` cookie came back, went " +
		"to different upstreams. Give the page a landing request that sets the cookie first, or balance on what every " +
		"first request carries (`ip_hash`, `header`).",
	CauseUnexplained: "No evidence explains the switch: `random`, `round_robin`, `least_conn` and `first` do not pin " +
		"users. Use `--id` to name the backend reliably.",
}

var apacheHints = map[Cause]string{
	CauseNoToken: "Nothing pinned the session: mod_proxy_balancer does not set the `stickysession` cookie itself. " +
		"Check that `stickysession=` names a cookie somebody sets, e.g. " +
		"`Header add Set-Cookie \"ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/\" env=BALANCER_ROUTE_CHANGED`, " +
		"and that every `BalancerMember` has a `route=`.",
	CauseTokenRefused: "Apache set the cookie but the client refuses it: check the `Header add Set-Cookie` line's " +
		"(or the application's) domain, Secure (needs https) and path.",
	CauseTokenIgnored: "The client sent the cookie and another member answered without a new cookie: " +
		"mod_proxy_balancer reads the route after the first `.` of the `stickysession` cookie and ignores a value " +
		"whose route names no `BalancerMember route=`. Check the cookie name and that values look like `.s2` " +
		"(or `<id>.s2` with an application's jvmRoute).",
	CauseTokenReassigned: "Apache set a new route cookie over the one sent: the balancer found no route in it and " +
		"balanced again. The route is read after a `.`: `ROUTEID=s2` instead of `ROUTEID=.s2` (measured on Apache " +
		"2.4) is no route at all. Also a member in error state fails over unless `nofailover=On`.",
	CauseAfterAction: "The session was sticky until a scenario step (a restart, `apachectl graceful` or deploy) and " +
		"changed backend after it. Routes live in the config, so restarts and graceful reloads keep users unless " +
		"the `route=` values or the `stickysession` name changed.",
	CauseAfterError: "The switch followed a failed request: mod_proxy_balancer put the member in error state " +
		"(for `retry=` seconds) and failed over. `nofailover=On` answers the error instead.",
	CauseFrontendChanged: "The session changed backend when it moved to another Apache node: the nodes disagree on " +
		"routes. Give every node the same `BalancerMember ... route=` values and `stickysession` name.",
	CauseSourceChanged: "The session changed backend when its client address changed: mod_proxy_balancer has no " +
		"source-address persistence, so something in front of it pinned by address. Use `stickysession`.",
	CauseBirthSplit: "The session's first requests, sent at once before the route cookie came back, went to " +
		"different `BalancerMember`s. Give the page a landing request that sets the cookie first.",
	CauseUnexplained: "No evidence explains the switch: `lbmethod=byrequests`, `bytraffic` and `bybusyness` do not " +
		"pin users without `stickysession`. Use `--id` to name the backend reliably.",
}
