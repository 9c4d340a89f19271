package report

import (
	"testing"
	"time"
	"unsafe"

	"github.com/stickyprobe/stickyprobe/probe"
)

// BenchmarkSummaryAdd measures Add in steady state: every session already
// seen, every backend and token value interned, the samples full. The goal
// is no allocation and at least 5M events/s on one core.
func BenchmarkSummaryAdd(b *testing.B) {
	const sessions, perSession = 1000, 64
	backends := []string{"web1", "web2", "web3", "web4"}
	evs := make([]probe.Event, 0, sessions*perSession)
	for seq := range perSession {
		for id := range sessions {
			pin := backends[id%len(backends)]
			ev := probe.Event{
				Session: id, Control: id%50 == 0, Seq: seq, Frontend: "http://shop.example/",
				Start: testStart, Latency: time.Duration(1000+37*id+11*seq) * time.Microsecond,
				Status: 200, Backend: pin, TokenName: "SERVERID", TokenHeld: seq > 0,
			}
			switch {
			case ev.Control:
				ev.Backend, ev.TokenHeld = backends[(id+seq)%len(backends)], false
			case seq == 0:
				ev.TokenSet = pin
			case id%10 == 1 && seq >= 8: // a broken session: ignored token
				ev.TokenSent, ev.Backend = pin, backends[(id+1)%len(backends)]
			case seq%16 == 5: // some 5xx
				ev.TokenSent, ev.Status, ev.Error = pin, 503, probe.ErrHTTP5xx
			default:
				ev.TokenSent = pin
			}
			evs = append(evs, ev)
		}
	}
	s := NewSummary(Options{MinStickiness: 0.99, MaxErrorRate: 0.05, CookieToken: true})
	for i := range evs { // warm up: sessions, names and samples
		s.Add(&evs[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		s.Add(&evs[i])
		if i++; i == len(evs) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if r := s.Close(Run{}); r.Summary.Broken == 0 || len(r.Samples) == 0 {
		b.Fatalf("the benchmark's stream breaks no session: %+v", r.Summary)
	}
}

// TestSessionStateSize guards the per-session cost of a summary: at
// 100,000 sessions every byte of sessionState is 100 KB of a run's memory.
func TestSessionStateSize(t *testing.T) {
	if got := unsafe.Sizeof(step{}); got > 32 {
		t.Errorf("step is %d bytes, want at most 32", got)
	}
	// 144: the two steps (64), counters, and since the backend-loss
	// judgement the first moves with their times (32: when each was sent
	// and answered), in 32-bit fields.
	if got := unsafe.Sizeof(sessionState{}); got > 144 {
		t.Errorf("sessionState is %d bytes, want at most 144", got)
	}
}
