package probe

import (
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// phase is a requests phase as the workers see it. round and last change
// only between rounds, when no worker holds a session.
type phase struct {
	name     string
	count    int       // rounds to send; 0 for a timed phase
	deadline time.Time // end of a timed phase; zero for a counted one
	think    time.Duration
	paths    []string
	targets  [][]*target // [frontend][path], nil without paths
}

func (r *Runner) newPhase(p scenarios.Phase, now time.Time) *phase {
	ph := &phase{name: p.Name, count: p.Requests, think: r.spec.Think, paths: p.Paths}
	if p.Think != nil {
		ph.think = *p.Think
	}
	if p.Requests == 0 {
		if p.Duration > 0 {
			ph.deadline = now.Add(p.Duration)
		} else {
			ph.count = r.spec.Requests
		}
	}
	if len(p.Paths) > 0 {
		ph.targets = make([][]*target, len(r.targets))
		for i, base := range r.targets {
			for _, path := range p.Paths {
				ph.targets[i] = append(ph.targets[i], r.newTarget(scenarios.WithPath(base.u, path), base))
			}
		}
	}
	return ph
}

// more reports whether round n should be sent. A timed phase is bounded by
// MaxRequests rounds too, so a zero think time and no rate cannot loop
// without end.
func (ph *phase) more(n int, now time.Time) bool {
	if ph.count > 0 {
		return n < ph.count
	}
	return n < scenarios.MaxRequests && now.Before(ph.deadline)
}

// left is the number of requests session s still sends in a counted phase
// (a burst sends several in one round); a timed phase sends until its end.
func (ph *phase) left(s *session) int {
	if ph.count > 0 {
		return ph.count - int(s.done)
	}
	return scenarios.MaxRequests - int(s.done)
}

// over reports whether a request starting at t would fall after the end of
// a timed phase.
func (ph *phase) over(t time.Time) bool {
	return !ph.deadline.IsZero() && !t.Before(ph.deadline)
}

// target returns the URL of the k-th request of the phase to frontend
// front (an index in the runner's targets), and the path to record (""
// when the phase names none): the phase's paths in turn.
func (ph *phase) target(targets []*target, front, k int) (t *target, path string) {
	if ph.targets == nil {
		return targets[front], ""
	}
	k %= len(ph.paths)
	return ph.targets[front][k], ph.paths[k]
}
