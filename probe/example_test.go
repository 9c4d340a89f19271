package probe_test

import (
	"context"
	"fmt"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
)

// One pacer per run, shared by every worker: five requests at 100 per
// second are spaced 10 ms apart, however many goroutines ask.
func ExampleNewPacer() {
	p := probe.NewPacer(100)
	ctx := context.Background()
	start := time.Now()
	for range 5 {
		if err := p.Wait(ctx); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("spread over at least 40ms:", time.Since(start) >= 40*time.Millisecond)

	// A rate of 0 is unlimited: Wait only reports a stopped run.
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	fmt.Println(probe.NewPacer(0).Wait(ctx), probe.NewPacer(0).Wait(stopped))
	// Output:
	// spread over at least 40ms: true
	// <nil> context canceled
}
