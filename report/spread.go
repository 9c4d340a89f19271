package report

import (
	"fmt"
	"sort"
	"strings"
)

// Stickiness that pins everyone to one backend is broken too: a NAT in
// front of `balance source`, a hash on a constant, every user behind one
// proxy. This file measures how the sessions spread over the backends and
// how the requests spread over frontends (LB nodes) and backends.

// maxFrontends caps distinct frontends a summary tells apart; more are
// counted under "other".
const maxFrontends = 64

// autoSpreadSessions is the fewest judged sessions for which the automatic
// spread check (--min-backends -1) says anything: with fewer, all of them
// on one backend can be chance.
const autoSpreadSessions = 10

// frontStats counts requests per frontend, and per frontend and backend:
// the node × backend matrix.
type frontStats struct {
	names  []string
	idx    map[string]int32
	rq     []int64   // requests per frontend
	moves  []int64   // measured sessions' changes of backend, by the frontend of the response that changed it
	byBack [][]int64 // [frontend][backend] identified responses
}

func (f *frontStats) intern(name string) int16 {
	if name == "" {
		return -1
	}
	if i, ok := f.idx[name]; ok {
		return int16(i)
	}
	if len(f.names) >= maxFrontends {
		name = "other"
		if i, ok := f.idx[name]; ok {
			return int16(i)
		}
	}
	i := int32(len(f.names))
	f.names = append(f.names, name)
	f.idx[name] = i
	f.rq = append(f.rq, 0)
	f.moves = append(f.moves, 0)
	f.byBack = append(f.byBack, nil)
	return int16(i)
}

// add counts one response on frontend front from backend b (-1: it named
// none), moved when it changed a measured session's backend.
func (f *frontStats) add(front int16, b int32, moved bool) {
	if front < 0 {
		return
	}
	f.rq[front]++
	if b < 0 {
		return
	}
	row := f.byBack[front]
	for int(b) >= len(row) {
		row = append(row, 0)
	}
	row[b]++
	f.byBack[front] = row
	if moved {
		f.moves[front]++
	}
}

// Frontend is one LB node's row of the node × backend matrix.
type Frontend struct {
	Requests int64 `json:"requests"`
	// Moves counts the responses on this node that changed a measured
	// session's backend: a node that does not honour the tokens the
	// others handed out has many.
	Moves    int64            `json:"moves"`
	Backends map[string]int64 `json:"backends"` // identified responses per backend
}

// Spread is how the measured sessions spread over the backends.
type Spread struct {
	// Backends is the number of backends at least one measured session
	// is pinned to; Answering the number that answered anyone, control
	// sessions included.
	Backends  int `json:"backends"`
	Answering int `json:"answering"`
	// MaxShare is the largest share of the pinned sessions one backend
	// holds (of the requests with --token none), MaxBackend that backend.
	MaxShare   float64 `json:"max_share"`
	MaxBackend string  `json:"max_backend,omitempty"`
	// Imbalance is MaxShare ÷ the fair share 1/Answering: 1 is an even
	// spread, Answering means everyone on one backend.
	Imbalance float64 `json:"imbalance"`
}

func (s *Summary) closeFrontends(r *Report) {
	r.Frontends = make(map[string]Frontend, len(s.fronts.names))
	for i, name := range s.fronts.names {
		f := Frontend{Requests: s.fronts.rq[i], Moves: s.fronts.moves[i], Backends: map[string]int64{}}
		for b, n := range s.fronts.byBack[i] {
			if n > 0 {
				f.Backends[s.names[b]] += n
			}
		}
		r.Frontends[name] = f
	}
}

// closeSpread measures the spread once the backends are counted.
func closeSpread(r *Report, byRequests bool) Spread {
	sp := Spread{Answering: len(r.Backends)}
	var total, top int64
	for _, name := range sortedKeys(r.Backends) {
		b := r.Backends[name]
		n := int64(b.Sessions)
		if byRequests {
			n = b.Requests
		}
		if n == 0 {
			continue
		}
		sp.Backends++
		total += n
		if n > top {
			top, sp.MaxBackend = n, name
		}
	}
	if total > 0 && sp.Answering > 0 {
		sp.MaxShare = float64(top) / float64(total)
		sp.Imbalance = sp.MaxShare * float64(sp.Answering)
	}
	return sp
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// spreadFailures judges the spread against --min-backends and
// --max-imbalance. what names the unit: "sessions" or "requests".
func (s *Summary) spreadFailures(r *Report, judged int, what string) []string {
	sp := r.Spread
	var fails []string
	minB, auto := s.opts.MinBackends, false
	if minB < 0 {
		// Automatic: several backends answered (the control group
		// reaches them all), yet every judged session is pinned to one.
		minB, auto = 0, true
		if sp.Answering >= 2 && judged >= autoSpreadSessions {
			minB = 2
		}
	}
	if sp.Backends < minB {
		where := fmt.Sprintf("1 backend, %s", orDash(sp.MaxBackend))
		if sp.Backends != 1 {
			where = fmt.Sprintf("%d backends, the most on %s", sp.Backends, orDash(sp.MaxBackend))
		}
		msg := fmt.Sprintf("spread: all %d %s are on %s (--min-backends %d): "+
			"everyone behind one address or NAT in front of source persistence, or a hash on a constant",
			judged, what, where, minB)
		if auto {
			msg = fmt.Sprintf("spread: all %d %s are pinned to %s although %d backends answered: everyone on one server "+
				"(a NAT or proxy in front of source persistence, a hash on a constant); --min-backends 0 turns this check off",
				judged, what, orDash(sp.MaxBackend), sp.Answering)
		}
		fails = append(fails, msg)
	}
	if m := s.opts.MaxImbalance; m > 0 && sp.Imbalance > m {
		fails = append(fails, fmt.Sprintf("spread: %s holds %.0f%% of the %s, %.2f× the fair share of %.0f%% (--max-imbalance %g)",
			sp.MaxBackend, 100*sp.MaxShare, what, sp.Imbalance, 100/float64(sp.Answering), m))
	}
	return fails
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// backendList is "server1 (12), server2 (3)" for the most common names of
// m, at most max of them.
func backendList(m map[string]int64, max int) string {
	names := sortedKeys(m)
	sort.SliceStable(names, func(i, j int) bool { return m[names[i]] > m[names[j]] })
	var parts []string
	for i, n := range names {
		if i == max {
			parts = append(parts, fmt.Sprintf("%d more", len(names)-max))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", n, m[n]))
	}
	return strings.Join(parts, ", ")
}
