// Package haplog reads HAProxy's HTTP request logs and counts, per
// frontend, backend and server, what HAProxy itself recorded about the
// persistence cookie of every request: the third and fourth characters of
// the termination state (client side N, I, D, V, E, O, U; server side N,
// I, U, P, R, D), as HAProxy's configuration manual describes them in its
// section on the session state at disconnection.
//
// That is the stickiness of real users, which no active probe sees. The
// package exists so `stickyprobe logs` and the monitor's log metrics read
// the same lines the same way:
//
//   - Parse reads one line: HAProxy's default HTTP log format (`option
//     httplog`), bare as `log stdout format raw` writes it, or behind a
//     syslog header (RFC 3164 and RFC 5424 as HAProxy, rsyslog and
//     journald write them, and HAProxy's short, timed and iso formats).
//     A Format compiled from a custom `log-format` string reads other
//     layouts, as long as they carry %tsc.
//   - Reader streams lines from plain, rotated or gzip-compressed files with
//     bounded memory: one line at a time, lines longer than MaxLine are
//     skipped whole. Lines it cannot read are counted and a few kept as
//     samples; they are never fatal.
//   - Stats aggregates records into per-server counts and a timeline whose
//     bucket widens (and merges) when it would exceed MaxBuckets, so memory
//     stays bounded whatever the time span; Judge turns them into a verdict.
//   - Follow (follow.go) reads a growing file across rotation, as tail -F.
//   - Join (join.go) pairs the switches of a probe run's report with the
//     log lines of those very requests: by the probe's mark header when the
//     log captured it, else by client address and port within the request's
//     time, and says whether HAProxy's status confirms the report's cause.
//   - Text and JSON (text.go, json.go) render a Summary.
//
// The mapping from statuses to stickyprobe's cause words is in cause.go.
//
// Records handed to Reader's callback point into its read buffer, to read
// millions of lines without allocating; whatever keeps a string (Stats'
// keys, the join, metric labels) copies it.
package haplog
