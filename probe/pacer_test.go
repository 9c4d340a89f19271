package probe

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"
)

func TestNewPacer(t *testing.T) {
	tests := []struct {
		name         string
		rate         float64
		wantUnlimit  bool
		wantInterval time.Duration
	}{
		{name: "zero is unlimited", rate: 0, wantUnlimit: true},
		{name: "negative is unlimited", rate: -5, wantUnlimit: true},
		{name: "100 per second", rate: 100, wantInterval: 10 * time.Millisecond},
		{name: "one per second", rate: 1, wantInterval: time.Second},
		{name: "fractional", rate: 0.5, wantInterval: 2 * time.Second},
		{name: "fast", rate: 4000, wantInterval: 250 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPacer(tt.rate)
			if _, ok := p.(unlimited); ok != tt.wantUnlimit {
				t.Fatalf("NewPacer(%g) = %T, unlimited = %v, want %v", tt.rate, p, ok, tt.wantUnlimit)
			}
			if tt.wantUnlimit {
				return
			}
			if got := p.(*constantPacer).interval; got != tt.wantInterval {
				t.Errorf("NewPacer(%g) interval = %v, want %v", tt.rate, got, tt.wantInterval)
			}
		})
	}
}

func TestConstantPacerReserve(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	// Each step reserves a slot at t0+at and expects to wait want.
	steps := []struct {
		name string
		at   time.Duration
		want time.Duration
	}{
		{name: "first slot is now", at: 0, want: 0},
		{name: "second one interval later", at: 0, want: 10 * ms},
		{name: "third two intervals later", at: 0, want: 20 * ms},
		{name: "caller arriving later waits less", at: 15 * ms, want: 15 * ms},
		{name: "on time for its slot", at: 40 * ms, want: 0},
		{name: "after a long idle gap: now", at: time.Hour, want: 0},
		{name: "after a long idle gap: no burst of missed slots", at: time.Hour, want: 10 * ms},
		{name: "after a long idle gap: still spaced", at: time.Hour, want: 20 * ms},
		{name: "slightly late: no catch-up", at: time.Hour + 35*ms, want: 0},
		{name: "then spaced again", at: time.Hour + 35*ms, want: 10 * ms},
	}
	p := &constantPacer{interval: 10 * ms, clock: func() time.Time { panic("reserve must not read the clock") }}
	for _, st := range steps {
		if got := p.reserve(t0.Add(st.at)); got != st.want {
			t.Errorf("%s: reserve(t0+%v) = %v, want %v", st.name, st.at, got, st.want)
		}
	}
}

func TestConstantPacerConcurrentSlotsDistinct(t *testing.T) {
	const n = 200
	interval := time.Millisecond
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	p := &constantPacer{interval: interval, clock: func() time.Time { return now }}
	waits := make([]time.Duration, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			waits[i] = p.reserve(now)
		}()
	}
	close(start)
	wg.Wait()
	sort.Slice(waits, func(i, j int) bool { return waits[i] < waits[j] })
	for i, w := range waits {
		if want := time.Duration(i) * interval; w != want {
			t.Fatalf("sorted waits[%d] = %v, want %v: slots are not distinct and one interval apart", i, w, want)
		}
	}
}

func TestConstantPacerWaitInjectedClock(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	p := &constantPacer{interval: time.Hour, clock: func() time.Time { return now }}
	ctx := context.Background()
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("first Wait = %v, want nil at once", err)
	}
	// The next slot is an hour away: only the context can end the wait.
	ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Wait = %v, want %v", err, context.DeadlineExceeded)
	}
}

func TestPacerWaitCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, rate := range []float64{0, 100} {
		if err := NewPacer(rate).Wait(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("NewPacer(%g).Wait(canceled) = %v, want %v", rate, err, context.Canceled)
		}
	}
}

func TestUnlimitedPacerDoesNotWait(t *testing.T) {
	p := NewPacer(0)
	start := time.Now()
	for range 10000 {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// A generous bound: 10000 calls that each slept even a timer tick
	// would take far longer.
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("10000 unlimited waits took %v", d)
	}
}

func TestConstantPacerRealTime(t *testing.T) {
	// Only a lower bound: a loaded machine may be slower, never faster.
	p := NewPacer(200) // 5ms apart
	start := time.Now()
	var wg sync.WaitGroup
	for range 11 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Wait(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if d, want := time.Since(start), 45*time.Millisecond; d < want {
		t.Errorf("11 waits at 200/s from 11 goroutines took %v, want at least %v", d, want)
	}
}
