package report

import (
	"math"
	"sort"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
)

func TestLatencyBucketRoundTrip(t *testing.T) {
	for i := 0; i < latencyBuckets; i++ {
		lo := bucketValue(i)
		if got := latencyBucket(lo); got != i {
			t.Fatalf("latencyBucket(bucketValue(%d) = %v) = %d", i, lo, got)
		}
		if i+1 < latencyBuckets {
			hi := bucketValue(i + 1)
			if hi <= lo {
				t.Fatalf("bucketValue not increasing: %d → %v, %d → %v", i, lo, i+1, hi)
			}
			if got := latencyBucket(hi - time.Microsecond); got != i {
				t.Fatalf("latencyBucket(%v), just below bucket %d, = %d, want %d", hi-time.Microsecond, i+1, got, i)
			}
			// Two significant digits: a bucket is at most 10% of its lower bound wide.
			if lo >= 100*time.Microsecond && float64(hi-lo) > 0.1*float64(lo)+1 {
				t.Fatalf("bucket %d is [%v, %v): wider than 10%%", i, lo, hi)
			}
		}
	}
}

func TestLatencyBucketMonotonic(t *testing.T) {
	prev := 0
	for d := time.Duration(0); d < 100*time.Second; d = d*21/20 + time.Microsecond {
		b := latencyBucket(d)
		if b < prev {
			t.Fatalf("latencyBucket(%v) = %d, below %d for a shorter latency", d, b, prev)
		}
		if v := bucketValue(b); v > d {
			t.Fatalf("bucketValue(latencyBucket(%v)) = %v, above the latency", d, v)
		}
		prev = b
	}
	for _, d := range []time.Duration{-time.Second, 0, 999 * time.Nanosecond} {
		if b := latencyBucket(d); b != 0 {
			t.Errorf("latencyBucket(%v) = %d, want 0", d, b)
		}
	}
	if b := latencyBucket(math.MaxInt64); b != latencyBuckets-1 {
		t.Errorf("latencyBucket(max) = %d, want the last bucket %d", b, latencyBuckets-1)
	}
}

// TestLatencyQuantiles checks the histogram's quantiles against the exact
// quantiles of known distributions.
func TestLatencyQuantiles(t *testing.T) {
	const n = 20000
	dists := []struct {
		name string
		inv  func(p float64) time.Duration // the inverse of the distribution function
	}{
		{"uniform 1-100 ms", func(p float64) time.Duration { return time.Duration(float64(time.Millisecond) * (1 + 99*p)) }},
		{"exponential mean 20 ms", func(p float64) time.Duration { return time.Duration(-20 * float64(time.Millisecond) * math.Log(1-p)) }},
		{"log-uniform 50 µs-5 s", func(p float64) time.Duration { return time.Duration(50e3 * math.Pow(1e5, p)) }},
	}
	for _, d := range dists {
		t.Run(d.name, func(t *testing.T) {
			var h latencyHist
			all := make([]time.Duration, n)
			for i := range all {
				all[i] = d.inv((float64(i) + 0.5) / n)
				h.add(all[i])
			}
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			prev := time.Duration(0)
			for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999} {
				got, want := h.quantile(q), all[int(q*n)]
				if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.05 {
					t.Errorf("p%g = %v, want %v within 5%% (off by %.1f%%)", 100*q, got, want, 100*rel)
				}
				if got < prev {
					t.Errorf("p%g = %v, below a lower quantile's %v", 100*q, got, prev)
				}
				prev = got
			}
			if h.max != all[n-1] || h.quantile(1) > h.max {
				t.Errorf("max = %v, p100 = %v, want %v", h.max, h.quantile(1), all[n-1])
			}
		})
	}
	var empty latencyHist
	if got := empty.quantile(0.5); got != 0 {
		t.Errorf("empty p50 = %v, want 0", got)
	}
}

// TestLatencyOfResponsesOnly: a request without a response has no latency
// worth reporting; a 5xx is a response.
func TestLatencyOfResponsesOnly(t *testing.T) {
	s := NewSummary(testOptions())
	for i, ev := range []probe.Event{
		{Seq: 0, Backend: "s1", Status: 200, Latency: 10 * time.Millisecond},
		{Seq: 1, Backend: "s1", Status: 503, Error: probe.ErrHTTP5xx, Latency: 20 * time.Millisecond},
		{Seq: 2, Error: probe.ErrTimeout, Latency: 30 * time.Second},
		{Seq: 3, Error: probe.ErrCanceled, Latency: 40 * time.Second},
	} {
		ev.Seq = i
		s.Add(&ev)
	}
	r := s.Close(testRun())
	if r.LatencyMS.Max != 20 || r.LatencyMS.P50 < 10 || r.LatencyMS.P50 >= 11 {
		t.Errorf("latency = %+v, want max 20 ms and p50 in [10, 11) ms", r.LatencyMS)
	}
	if r.Summary.Requests != 4 || r.Summary.Errors != 2 {
		t.Errorf("requests %d errors %d, want 4 and 2: canceled is not an error", r.Summary.Requests, r.Summary.Errors)
	}
}
