package metrics

import (
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// BenchmarkCycle measures the per-request cost of the metrics path: one
// cycle of 1000 sessions × 5 requests, added and judged. The summaries
// dominate; the Prometheus children are resolved once per frontend and
// backend, not per event.
func BenchmarkCycle(b *testing.B) {
	backends := []string{"server1", "server2", "server3"}
	evs := make([]probe.Event, 0, 5000)
	for seq := range 5 {
		for id := range 1000 {
			evs = append(evs, probe.Event{Session: id, Seq: seq, Frontend: feA, Status: 200,
				Backend: backends[id%3], Latency: time.Millisecond, TokenName: "SERVERID", TokenSent: "s1"})
		}
	}
	m := New(Options{})
	rep := &report.Report{Verdict: report.Pass}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c := m.NewCycle(cookieOpts)
		for i := range evs {
			c.Add(&evs[i])
		}
		c.Close(rep, time.Now())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}
