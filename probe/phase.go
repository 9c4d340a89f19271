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
	round    int
	last     bool // this round is the phase's last
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
		ph.targets = make([][]*target, len(r.spec.URLs))
		for i, base := range r.spec.URLs {
			for _, path := range p.Paths {
				ph.targets[i] = append(ph.targets[i], r.newTarget(scenarios.WithPath(base, path), r.targets[i]))
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

// over reports whether a request starting at t would fall after the end of
// a timed phase.
func (ph *phase) over(t time.Time) bool {
	return !ph.deadline.IsZero() && !t.Before(ph.deadline)
}

// target returns the URL session s requests this round, and the path to
// record ("" when the phase names none).
func (ph *phase) target(s *session, frontends int) (t *target, path string) {
	if ph.targets == nil {
		return s.target, ""
	}
	k := ph.round % len(ph.paths)
	return ph.targets[s.id%frontends][k], ph.paths[k]
}
