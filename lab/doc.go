// Package lab starts real load balancers in front of real HTTP backends on
// 127.0.0.1, so stickyprobe can be pointed at a known configuration and its
// verdicts checked against reality.
//
// It exists for two callers: the `stickyprobe lab` command, which lets a
// newcomer see what a sticky (or broken) setup looks like from the outside,
// and the project's integration tests, which need a load balancer whose
// behaviour is real rather than simulated. Nothing here mocks a load
// balancer: a real haproxy, nginx, caddy or apache2 process is started with
// a generated config, and the backends are real TCP listeners served by
// net/http, each naming itself in an X-Backend header so a client can tell
// which server answered.
//
// Everything binds to loopback only: backends and peers to 127.0.0.1, a
// frontend to 127.0.0.1 or, when asked (BindAddr), another 127.0.0.0/8
// address; rendering refuses anything else. Every wait (readiness, stop,
// re-bind, reload) is bounded in time, so a broken environment produces an
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
//   - Node, LBConfig and StartNode (node.go): any kind of load balancer the
//     lab runs. Proc is the process handling nginx (nginx.go), Caddy
//     (caddy.go) and Apache (apache.go) share: a config checked with the
//     tool's own check mode (`nginx -t`, `caddy validate`, `apache2 -t`),
//     the server in the foreground in its own process group, readiness by
//     a real proxied response, the tool's own reload (`nginx -s reload`,
//     `caddy reload` through a loopback admin port, `apache2 -k graceful`)
//     and a full restart on the same port. LBPresets (lb_presets.go) are
//     the good and broken setups of all four kinds.
//   - Lab and the LoadBalancer interface (lab.go): backends (StartBackends)
//     plus one load balancer for the common case (Options.HAProxy, or any
//     kind with Options.LB); Lab.AddNode puts more HAProxy nodes in front of
//     the same backends, e.g. one whose cookie values differ
//     (HAProxyConfig.CookiePrefix) or one on 127.0.0.2 at the same port
//     (BindAddr, Port), like two LB nodes behind one DNS name; Lab.AddLB
//     does the same for any kind (two Caddy nodes with different secrets).
//   - Subpackage labrun: the presets run through the probe, each with the
//     verdict it must get, rendered side by side (`stickyprobe lab`), and
//     one preset served for a user to probe (`stickyprobe lab --serve`).
//
// # Adding another load balancer kind
//
// Callers only see the LoadBalancer and Node interfaces. To add one:
//
//  1. Add a <kind>.go with a config struct implementing LBConfig and a
//     flavor (node.go) that renders the config, names the tool's check,
//     run and reload commands, and a Find<Kind> with install instructions.
//  2. Let StartNode and FindLB know the kind, and add presets to LBPresets.
//  3. Add end-to-end tests next to the others; like those, they must fail
//     (not skip) when the binary is missing, with install instructions.
package lab
