// Package lab starts real load balancers in front of real HTTP backends on
// 127.0.0.1, so stickyprobe can be pointed at a known configuration and its
// verdicts checked against reality.
//
// It exists for two callers: the `stickyprobe lab` command, which lets a
// newcomer see what a sticky (or broken) HAProxy setup looks like from the
// outside, and the project's integration tests, which need a load balancer
// whose behaviour is real rather than simulated. Nothing here mocks HAProxy:
// a real haproxy process is started with a generated config, and the backends
// are real TCP listeners served by net/http, each naming itself in an
// X-Backend header so a client can tell which server answered.
//
// Everything binds to loopback only: backends and peers to 127.0.0.1, a
// frontend to 127.0.0.1 or, when asked (HAProxyConfig.BindAddr), another
// 127.0.0.0/8 address; Render refuses anything else. Every wait (readiness,
// stop, re-bind) is bounded in time, so a broken environment produces an
// error instead of a hang.
//
// # Pieces
//
//   - Backend (backend.go): an in-process HTTP server that can be stopped and
//     started again on the same address to simulate a dead server.
//   - HAProxyConfig and the presets (haproxy_config.go): a small description
//     of one HAProxy backend section, rendered into a full, readable
//     haproxy.cfg; presets cover the textbook cookie setup and classic
//     mistakes.
//   - HAProxy (haproxy.go): process control for a foreground haproxy
//     (validate with -c, start, wait until it really proxies, stop, restart);
//     Reload (haproxy_reload.go) hands over to a new process with -sf, as
//     `systemctl reload` does, and a Peers config lets stick tables survive
//     it. ControlHandler (control.go) lets another process restart or reload
//     a served lab over HTTP, for scenarios' exec phases.
//   - haproxy_stats.go: HAProxyConfig.StatsSocket gives HAProxy a Runtime
//     API socket (`stats socket PATH mode 600 level operator|user`) at a
//     short private path that HAProxy.StatsSocket returns and that stays
//     the same across Restart, Reload and Reconfigure, for package
//     haruntime and --haproxy-socket.
//   - proc.go, proc_*.go: LB-agnostic process plumbing (process group,
//     bounded SIGTERM/SIGKILL stop, bounded log capture, readiness).
//   - Lab and the LoadBalancer interface (lab.go): backends plus one load
//     balancer for the common case; Lab.AddNode puts more HAProxy nodes in
//     front of the same backends, e.g. one whose cookie values differ
//     (HAProxyConfig.CookiePrefix) or one on 127.0.0.2 at the same port
//     (BindAddr, Port), like two LB nodes behind one DNS name.
//
// # Adding another load balancer kind
//
// Callers only see the LoadBalancer interface, so adding nginx, Caddy or
// Apache does not touch them. To add one:
//
//  1. Add a <kind>_config.go with a config struct whose Render(listenPort,
//     backends) returns the full config text, plus that kind's presets.
//  2. Add a <kind>.go with a Start<Kind> function returning a type that
//     implements LoadBalancer. Reuse freePort (ports.go) and the helpers in
//     proc.go (startProcess, waitProxying, boundedBuffer): validate the
//     config with the tool's own check mode first, run the server in the
//     foreground in its own process group, wait for a real proxied response
//     carrying X-Backend, and stop with SIGTERM then SIGKILL after a bounded
//     wait. Also add a Find<Kind> with install instructions, like
//     FindHAProxy.
//  3. Give Options a field for the new kind and let Start pick it.
//  4. Add end-to-end tests next to the HAProxy ones; like those, they must
//     fail (not skip) when the binary is missing, with install instructions.
package lab
