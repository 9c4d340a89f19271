// Package metrics exposes stickyprobe's findings as Prometheus series, for
// `stickyprobe monitor` (scraped over HTTP) and `stickyprobe run
// --prom-textfile` (a file for node_exporter's textfile collector).
//
// A monitor runs for weeks, so everything here is built to stay the same
// size however long it runs:
//
//   - Aggregation streams. A Cycle takes events one at a time and keeps a
//     report.Summary per frontend for that cycle only; when the cycle is
//     judged its numbers are added to cumulative counters and the gauges are
//     set, and the summaries become garbage. Nothing keeps a history of
//     cycles or requests: Prometheus does that.
//   - Label values are bounded. scenario is one value per Metrics; cause,
//     verdict, kind and result come from fixed sets; frontend and backend
//     come from the target and are capped (labelCap): names beyond the cap
//     share the value "other", and a backend unseen for EvictAfter cycles
//     gives its slot (and its series) back.
//   - Counters that can appear are created at zero up front (every cause,
//     error kind, verdict), so increase() and rate() see their first rise.
//     Gauges of the last cycle only appear once a cycle was judged: a
//     stickiness of 0 before the first cycle would page someone.
//
// The names and their meaning are listed in the README ("Metrics") and,
// for tests, in testdata/metric-names.golden; a test fails when they drift
// apart or when a name breaks Prometheus's naming rules (promlint).
//
// The textfile is written atomically (WriteAtomic): a temp file in the same
// directory, synced and renamed over the target, so a reader never sees a
// half-written file even if the writer is killed mid-way.
package metrics
