package report

import "time"

// latencyHist is a fixed log-linear histogram of latencies in microseconds
// with two significant digits: enough for p50/p90/p99 within a few percent,
// in a few kilobytes, with no allocation per sample.
type latencyHist struct {
	counts [latencyBuckets]uint64
	total  uint64
	max    time.Duration
}

// Buckets 0..99 hold 0..99 µs one each; above, each decade has 90 buckets
// (mantissa 10..99), up to about 10^11 µs.
const latencyBuckets = 100 + 10*90

func latencyBucket(d time.Duration) int {
	us := d.Microseconds()
	if us < 100 {
		return int(max(us, 0))
	}
	exp := 0
	for us >= 100 {
		us /= 10
		exp++
	}
	i := 100 + (exp-1)*90 + int(us-10)
	return min(i, latencyBuckets-1)
}

// bucketValue is the lower bound of bucket i.
func bucketValue(i int) time.Duration {
	if i < 100 {
		return time.Duration(i) * time.Microsecond
	}
	i -= 100
	us := int64(i%90 + 10)
	for e := i/90 + 1; e > 0; e-- {
		us *= 10
	}
	return time.Duration(us) * time.Microsecond
}

func (h *latencyHist) add(d time.Duration) {
	h.counts[latencyBucket(d)]++
	h.total++
	h.max = max(h.max, d)
}

// quantile returns the latency below which a fraction q of samples fall:
// the middle of the bucket that holds that rank, so the error is at most
// half a bucket (under 5%) rather than a whole one.
func (h *latencyHist) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min((bucketValue(i)+bucketValue(i+1))/2, h.max)
		}
	}
	return h.max
}
