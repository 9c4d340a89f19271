package probe

import (
	"hash/fnv"
	"math/rand/v2"
)

// stream returns the random source for one purpose of the run ("order",
// and whatever a scenario adds: path choice, jitter). Every random choice
// draws from a stream derived from the run's seed and its purpose, so a
// seed repeats the whole run, and a new kind of choice takes a new stream
// instead of shifting the draws of the existing ones: an old seed still
// gives the old session order.
func (r *Runner) stream(purpose string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	return rand.New(rand.NewPCG(r.seed, h.Sum64()))
}
