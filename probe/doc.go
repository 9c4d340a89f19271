// Package probe is the engine of stickyprobe: it plays many simulated users
// ("sessions") against one or more load-balancer frontends and emits one
// Event per request, describing who served it and what happened to the
// affinity token.
//
// Sessions are data, not goroutines. A fixed pool of workers serves them in
// rounds; each round visits the sessions that still have requests in a new
// random order. A fixed order would hide breakage: with plain round robin,
// N sessions served in the same order each round, N a multiple of the
// number of servers, land on "their" server every time.
//
// Every session has its own RFC 6265 cookie jar (net/http/cookiejar with the
// public suffix list), with the rules current browsers add on top of it
// unless the run's Browser says rfc6265 (jar_browser.go). The probe
// manages the jar itself rather than letting
// http.Client do it, so it knows exactly whether the token was sent, whether
// the response set or deleted it, and whether the jar refused it and why.
// Between changes a jar is kept as the record of what was stored in it
// (cookies.go): replayed into a cookiejar it is the same jar, in a fifth
// of the memory.
//
// The probe speaks HTTP/1.1 itself over plain connections (conn.go,
// target.go): one write per request, http.ReadResponse for the answer, no
// goroutine per connection, and the connection policy (--conn) decides
// whether a connection outlives its request. When a run records exchanges
// (--har, -vv), the client tells the recorder each step: DNS and connect
// (from net.Dialer's httptrace hooks), TLS, the head as written, the first
// byte of the answer.
//
// What the probe cannot do for want of local resources (file descriptors,
// ports) is checked before the run where it can be (CheckSources) and
// otherwise counted as the probe's own error (ErrLocal), never the
// target's. A redirect is reported where it pointed, or followed in the
// session's jar when the run's Browser says so (redirect.go).
//
// A small control group of sessions never stores a cookie: if they do not
// change backend either, the run could not have seen breakage.
//
// A scenario has phases. RunPhase sends one requests phase over the same
// sessions, which keep their jars, tokens and request numbers from one
// phase to the next; MarkAction tells the runner that an exec or pause
// phase ran in between, and each session's next event names it
// (Event.AfterAction), so a switch right after a restart is evidence about
// the restart. Snapshot and Restore carry sessions across processes.
//
// The events channel belongs to whoever sends the last event on it: Run
// and RunSessions play a whole plan, so they close it when done; RunPhase
// plays one phase of a plan its caller drives, so it leaves it open for
// the next phase and the caller closes it after the last.
//
// The package knows nothing about rendering; report turns the event stream
// into a verdict.
package probe
