package probe

import (
	"context"
	"errors"
	"strconv"
)

// Sessions is a set of simulated users that outlives one run. A monitor
// with long-lived sessions (stickyprobe monitor --session-lifetime) plays
// the same users cycle after cycle so that their cookies age as a real
// user's do: HAProxy's maxidle/maxlife expiry and slow drift between two
// cycles only show on a session that was pinned before. Fresh sessions
// every cycle never see them.
//
// A Sessions belongs to the Runner that made it, which also keeps the token
// name it learned: a kept session whose cookie is accepted gets no new
// Set-Cookie, so a new runner could not learn the name from it. It is not
// safe for concurrent runs.
type Sessions struct {
	owner *Runner
	list  []*session
	runs  uint64
}

// errForeignSessions is returned when sessions are played by a runner that
// did not make them: its spec (frontends, token) may not match theirs.
var errForeignSessions = errors.New("probe: sessions belong to another runner")

// NewSessions creates the measured and control sessions of a run, for
// RunSessions.
func (r *Runner) NewSessions() *Sessions {
	return &Sessions{owner: r, list: r.newSessions(true)}
}

// RunSessions is Run on sessions kept from earlier runs: their cookie jars
// and token state carry over. Each run sends every session the spec's
// requests phases again, numbered from Seq 0, in shuffled orders that
// differ from the previous runs', with a MaxDuration of its own. It returns
// what Run returns. It is the runner's phases machinery (RunPhase) played
// on sessions the caller keeps between runs.
func (r *Runner) RunSessions(ctx context.Context, out chan<- Event, ss *Sessions) error {
	if ss == nil || ss.owner != r {
		close(out)
		return errForeignSessions
	}
	for _, s := range ss.list {
		// A run cut short leaves sessions mid-way; each run starts over.
		s.seq, s.notBefore = 0, 0
	}
	ss.runs++
	r.sessions, r.spent = ss.list, 0
	r.rng = r.stream("order/" + strconv.FormatUint(ss.runs, 10))
	return r.Run(ctx, out)
}
