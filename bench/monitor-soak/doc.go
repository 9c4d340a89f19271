// Command monitor-soak measures whether `stickyprobe monitor` stays the
// same size over a long run. It is a measurement, not a test: `go test`
// never runs it. Run it from the repository root:
//
//	go run ./bench/monitor-soak                      # 500 cycles, at least 1M requests
//	go run ./bench/monitor-soak -cycles 1000 -lifetime 1m
//
// It starts the lab (three backends behind a real haproxy on 127.0.0.1),
// builds and starts the real binary as `monitor` with back-to-back cycles,
// and scrapes the monitor's own /metrics over HTTP, as Prometheus would:
// its live heap after the last GC (go_gc_heap_live_bytes), heap in use,
// and resident set size (process_resident_memory_bytes, from /proc). It
// prints them at the start (after the first cycle), in the middle and at
// the end, then stops the monitor with SIGTERM and checks it exits 0.
//
// It exits 1 when the live heap grew by more than -max-growth between the
// middle and the end: by then every cache has reached its steady size, so
// growth there is a leak.
package main
