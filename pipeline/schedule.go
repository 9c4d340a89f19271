package pipeline

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Schedule is when a monitor's cycles run: one every Every, each wait
// spread by up to ±Jitter×Every so monitors started together do not probe
// in lockstep, until ctx ends or Cycles have run (0: no limit).
type Schedule struct {
	Every  time.Duration
	Jitter float64 // 0..0.5
	Cycles int
	Seed   uint64 // of the jitter: the same seed waits the same waits
	Clock  Clock  // nil: RealClock
}

// Cycle is one turn of a schedule: what it produced, and when the next
// one starts (NextIn 0, and Overran when another follows, when this one
// took longer than Every).
type Cycle struct {
	Result  CycleResult
	NextIn  time.Duration
	Overran bool
}

// Run calls cycle on the schedule and each with its outcome. It returns
// nil when ctx ended (between or during cycles), ErrCyclesDone once
// Cycles have run, or cycle's error.
func (s Schedule) Run(ctx context.Context, cycle func(context.Context) (CycleResult, error), each func(Cycle)) error {
	clock := s.Clock
	if clock == nil {
		clock = RealClock{}
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x6a6974746572)) // "jitter"
	next := clock.Now()
	for n := 0; ; {
		if !sleep(ctx, clock, next.Sub(clock.Now())) {
			return nil
		}
		start := clock.Now()
		res, err := cycle(ctx)
		if err != nil {
			return err
		}
		n++
		next = start.Add(s.jittered(rng))
		now := clock.Now()
		done := s.Cycles > 0 && n >= s.Cycles
		turn := Cycle{Result: res, NextIn: max(next.Sub(now), 0), Overran: now.After(next) && !done && !res.Interrupted}
		each(turn)
		switch {
		case res.Interrupted:
			return nil
		case done:
			return ErrCyclesDone
		case turn.Overran:
			next = now // an overrun starts the next cycle at once
		}
	}
}

// ErrCyclesDone: the schedule ran all its cycles.
var ErrCyclesDone = errors.New("pipeline: all cycles done")

// jittered is Every spread by ±Jitter×Every.
func (s Schedule) jittered(rng *rand.Rand) time.Duration {
	return time.Duration(float64(s.Every) * (1 + s.Jitter*(2*rng.Float64()-1)))
}
