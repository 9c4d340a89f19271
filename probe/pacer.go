package probe

import (
	"context"
	"sync/atomic"
	"time"
)

// Pacer spaces requests evenly at a global rate. There is one per run,
// shared by every worker: a ticker per worker multiplies the rate by the
// worker count, the mistake hey makes.
type Pacer interface {
	// Wait blocks until the caller may send one request.
	Wait(ctx context.Context) error
}

// NewPacer returns a pacer for rate requests per second; rate <= 0 means
// unlimited.
func NewPacer(rate float64) Pacer {
	if rate <= 0 {
		return unlimited{}
	}
	return &constantPacer{interval: time.Duration(float64(time.Second) / rate), clock: time.Now}
}

type unlimited struct{}

func (unlimited) Wait(ctx context.Context) error { return ctx.Err() }

// constantPacer hands out send slots one interval apart. It never lets
// callers catch up on slots missed while the target was slow: a burst
// after a stall is exactly the surprise load a probe must not cause.
type constantPacer struct {
	interval time.Duration
	next     atomic.Int64 // unix nanoseconds of the next free slot
	clock    func() time.Time
}

func (p *constantPacer) Wait(ctx context.Context) error {
	d := p.reserve(p.clock())
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reserve claims the next slot at or after now and returns how long the
// caller must wait for it.
func (p *constantPacer) reserve(now time.Time) time.Duration {
	n := now.UnixNano()
	for {
		next := p.next.Load()
		slot := max(next, n)
		if p.next.CompareAndSwap(next, slot+int64(p.interval)) {
			return time.Duration(slot - n)
		}
	}
}
