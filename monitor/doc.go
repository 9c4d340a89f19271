// Package monitor runs stickyprobe as a long-lived prober: the spec's
// requests phases every Config.Every (jittered, pipeline.Schedule), each
// cycle on fresh or kept sessions (pipeline.Prober), its result counted
// in Prometheus series (package metrics) served on /metrics, written to
// a node_exporter textfile after each cycle, and logged as one line per
// cycle plus one timeline per cause of broken sessions.
//
// Run is the whole loop; `stickyprobe monitor` only turns flags into a
// Config and maps Run's errors to exit codes. Config.Check refuses
// settings out of range and Config.Fit cuts a scenario's phases to the
// schedule; their errors name the flags the fields come from, since
// those are what a user of the command changes.
//
// /healthz is a liveness check (http.go): it fails only when no cycle has
// ended for longer than any cycle can take, because a dead target is what
// the metrics report and restarting the prober would not fix it. Optional
// feeds run beside the cycles for the monitor's life: HAProxy's own log
// (HAProxyLog, followed across rotation into the stickyprobe_haproxy_*
// series) and the caller's Config.Watch (the command's HAProxy Runtime
// API watch).
package monitor
