package report

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
)

// killRun is a run of 15 sessions (5 on each of s1..s3) and 3 control
// sessions over 20 rounds in which the backends in kills go away at their
// rounds, never to return. Sessions pinned to a killed backend are
// redispatched to the last backend still up with a new cookie and stay
// there; control sessions are balanced over what is up.
type killRun struct {
	rounds int
	kills  map[string]int // backend → the round it is gone from
	slow   bool           // the redispatching response takes 1.5 s (retries)
	errs   bool           // the first request after the kill fails (503) before the move
}

func (k killRun) up(b string, r int) bool {
	at, killed := k.kills[b]
	return !killed || r < at
}

func (k killRun) alive(r int) []string {
	var out []string
	for _, b := range lossServers {
		if k.up(b, r) {
			out = append(out, b)
		}
	}
	return out
}

func (k killRun) timeline() timeline {
	return timeline{rounds: k.rounds, measured: 15, control: 3, step: func(r, id int) probe.Event {
		alive := k.alive(r)
		if id >= 15 {
			return landed(alive[(r+id)%len(alive)])
		}
		home := lossServers[id%3]
		if r == 0 {
			return landed(home)
		}
		if k.up(home, r) {
			return kept(home)
		}
		at := k.kills[home]
		switch {
		case k.errs && r == at:
			return failed(home, probe.ErrHTTP5xx)
		case r == at || k.errs && r == at+1:
			ev := probe.Event{Status: 200, Backend: alive[len(alive)-1], TokenHeld: true, TokenSent: home, TokenSet: alive[len(alive)-1]}
			if k.slow {
				ev.Latency = 1500 * time.Millisecond
			}
			return ev
		}
		return kept(alive[len(alive)-1])
	}}
}

func judgeLoss(t *testing.T, tl timeline, policy LossPolicy) *Report {
	t.Helper()
	return judgeEvents(tl.events(), policy, nil)
}

func judgeEvents(evs []probe.Event, policy LossPolicy, st ServerStates) *Report {
	opts := testOptions()
	opts.MinStickiness, opts.MaxErrorRate, opts.OnBackendLoss = 1, 1, policy
	s := NewSummary(opts)
	if st != nil {
		s.SetServerStates(st)
	}
	for i := range evs {
		s.Add(&evs[i])
	}
	return s.Close(testRun())
}

// onlyFirstSees drops the requests of s1's sessions but session 0 from
// round from on: of them, only session 0 sees the kill.
func onlyFirstSees(evs []probe.Event, from int) []probe.Event {
	var keep []probe.Event
	for _, ev := range evs {
		if ev.Seq >= from && ev.Session%3 == 0 && ev.Session != 0 && ev.Session < 15 {
			continue
		}
		keep = append(keep, ev)
	}
	return keep
}

// A kill is recognised wherever in the run it falls, the last round
// included, and its moves are what failover-stay expects; under strict
// they are breakage.
func TestLossAnyTimeInTheRun(t *testing.T) {
	for _, pct := range []int{10, 50, 80, 95} {
		round := pct * 20 / 100
		t.Run(fmt.Sprintf("kill at %d%%", pct), func(t *testing.T) {
			tl := killRun{rounds: 20, kills: map[string]int{"s1": round}}.timeline()
			r := judgeLoss(t, tl, LossFailoverStay)
			if r.Verdict != Pass || r.Summary.Moved != 5 || r.Summary.Broken != 0 {
				t.Fatalf("failover-stay: verdict %s, moved %d, broken %d (%q); want pass, 5 moved", r.Verdict, r.Summary.Moved, r.Summary.Broken, r.Reasons)
			}
			l := r.BackendLoss.Lost
			if len(l) != 1 || l[0].Backend != "s1" || l[0].To != nil || !slices.Contains(l[0].Evidence, EvidenceDeparture) {
				t.Fatalf("lost %+v, want s1 gone to the end, by its departure at least", l)
			}
			if pct <= 50 && !slices.Contains(l[0].Evidence, EvidenceControl) {
				t.Errorf("kill at %d%%: evidence %v, want the control group's too (%d of %d misses)", pct, l[0].Evidence, l[0].Missed, l[0].MissedNeeded)
			}
			// The departure is complete with the second of s1's sessions
			// to move: within the round of the kill.
			if l[0].RecognizedAfterS <= 0 || l[0].RecognizedAfterS > 0.1 {
				t.Errorf("recognised %.3f s after the kill, want within its round (0.1 s)", l[0].RecognizedAfterS)
			}
			strict := judgeLoss(t, tl, LossStrict)
			if strict.Verdict != Fail || strict.Summary.Broken != 5 || strict.Causes[CauseTokenReassigned] != 5 || strict.BackendLoss == nil {
				t.Errorf("strict: verdict %s, broken %d, causes %v, loss %v; want fail, 5 token-reassigned, the loss still shown",
					strict.Verdict, strict.Summary.Broken, strict.Causes, strict.BackendLoss)
			}
		})
	}
}

// The control group's evidence: K misses in a row, K from the spread.
func TestLossControlNeeds(t *testing.T) {
	if k := needDraws(1.0/3, 3); k != 18 {
		t.Errorf("K for three even backends = %d, want 18 ((2/3)^18 < 0.1%% < (2/3)^17)", k)
	}
	if k := needDraws(0.5, 3); k != 18 {
		t.Errorf("K for an overestimated share = %d, want 18: at most an even share counts", k)
	}
	if k := needDraws(0.1, 3); k != 66 {
		t.Errorf("K for a 10%% share = %d, want 66", k)
	}
	if k := needDraws(0.5, 1); k != 0 {
		t.Errorf("K with one backend = %d, want 0 (unknown)", k)
	}
}

// A kill in the last round that only one session saw: one move is no
// departure, but a move that took the LB's retries is evidence, and so is
// a move right after the pin failed.
func TestLossFromTheMoveItself(t *testing.T) {
	tests := []struct {
		name string
		k    killRun
		want []Evidence // nil: no loss
	}{
		{"fast move, no error: breakage", killRun{rounds: 20, kills: map[string]int{"s1": 19}}, nil},
		{"slow move", killRun{rounds: 20, kills: map[string]int{"s1": 19}, slow: true}, []Evidence{EvidenceSlowMove}},
		{"after errors on the pin", killRun{rounds: 20, kills: map[string]int{"s1": 18}, errs: true}, []Evidence{EvidenceAfterError}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := judgeEvents(onlyFirstSees(tt.k.timeline().events(), tt.k.kills["s1"]), LossFailoverStay, nil)
			if tt.want == nil {
				if r.BackendLoss != nil || r.Summary.Broken != 1 || r.Verdict != Fail {
					t.Fatalf("verdict %s, broken %d, loss %+v; want the move as breakage", r.Verdict, r.Summary.Broken, r.BackendLoss)
				}
				return
			}
			if r.BackendLoss == nil || len(r.BackendLoss.Lost) != 1 || !slices.Equal(r.BackendLoss.Lost[0].Evidence, tt.want) {
				t.Fatalf("loss %+v, want s1 lost by %v", r.BackendLoss, tt.want)
			}
			if r.Verdict != Pass || r.Summary.Moved != 1 {
				t.Errorf("verdict %s, moved %d (%q); want pass, 1 moved", r.Verdict, r.Summary.Moved, r.Reasons)
			}
		})
	}
}

// Two backends go away at different times: both are losses, every one of
// their sessions moved as expected.
func TestTwoLosses(t *testing.T) {
	tl := killRun{rounds: 20, kills: map[string]int{"s1": 6, "s2": 12}}.timeline()
	r := judgeLoss(t, tl, LossFailoverStay)
	if r.Verdict != Pass || r.Summary.Moved != 10 {
		t.Fatalf("verdict %s, moved %d (%q); want pass, 10 moved", r.Verdict, r.Summary.Moved, r.Reasons)
	}
	l := r.BackendLoss.Lost
	if len(l) != 2 || l[0].Backend != "s1" || l[1].Backend != "s2" || l[0].Moved != 5 || l[1].Moved != 5 {
		t.Fatalf("lost %+v, want s1 then s2, 5 sessions off each", l)
	}
}

// A load balancer without persistence moves sessions off every backend:
// however long the run, and with a backend killed in it, no move is
// excused and no loss reported. 600 runs: two and three backends, with
// and without a kill, 150 balancing orders each.
func TestNonStickyIsNoLoss(t *testing.T) {
	for _, n := range []int{2, 3} {
		for _, kill := range []int{-1, 10} {
			for salt := range 150 {
				r := judgeLoss(t, nonSticky(n, kill, salt), LossFailoverStay)
				if r.Verdict != Fail || r.Summary.Moved != 0 || r.Summary.Broken < 12 || r.BackendLoss != nil && kill < 0 {
					t.Fatalf("%d backends, kill %d, order %d: verdict %s, moved %d, broken %d, loss %+v; want fail, nothing excused",
						n, kill, salt, r.Verdict, r.Summary.Moved, r.Summary.Broken, r.BackendLoss)
				}
			}
		}
	}
}

// nonSticky is a run of 20 rounds through an LB that balances every
// request over the first n of s1..s3 and sets its cookie each time; from
// round kill on (kill >= 0) s1 is gone.
func nonSticky(n, kill, salt int) timeline {
	return timeline{rounds: 20, measured: 15, control: 3, step: func(r, id int) probe.Event {
		alive := lossServers[:n]
		if kill >= 0 && r >= kill {
			alive = alive[1:]
		}
		b := alive[scramble(r+100*salt, id)%len(alive)]
		if r == 0 || id >= 15 {
			return landed(b)
		}
		return probe.Event{Status: 200, Backend: b, TokenHeld: true, TokenSent: "x", TokenSet: b}
	}}
}

// downAt is a load balancer's view of its servers.
type downAt map[string][2]time.Time

func (d downAt) DownAt(server string) (time.Time, time.Time, bool) {
	t, ok := d[server]
	return t[0], t[1], ok
}

// What the LB says outranks everything: one fast move that alone is no
// evidence is a loss when the LB marked the server down.
func TestLossFromLBState(t *testing.T) {
	evs := onlyFirstSees(killRun{rounds: 20, kills: map[string]int{"s1": 19}}.timeline().events(), 19)
	r := judgeEvents(evs, LossFailoverStay, downAt{"s1": {testStart.Add(1900 * time.Millisecond), {}}})
	if r.Verdict != Pass || r.BackendLoss == nil || len(r.BackendLoss.Lost) != 1 || !slices.Equal(r.BackendLoss.Lost[0].Evidence, []Evidence{EvidenceLBState}) {
		t.Fatalf("verdict %s, loss %+v; want pass, s1 lost by lb-state", r.Verdict, r.BackendLoss)
	}
	if got := r.BackendLoss.Lost[0].RecognizedAt; !got.Equal(testStart.Add(1900 * time.Millisecond)) {
		t.Errorf("recognised at %s, want when the LB marked it down", got)
	}
}

// One session leaves a backend that keeps answering everyone else: no
// loss, breakage.
func TestMoveOffLiveBackendIsBreakage(t *testing.T) {
	tl := timeline{rounds: 10, measured: 15, control: 3, step: func(r, id int) probe.Event {
		home := lossServers[id%3]
		switch {
		case id >= 15 || r == 0:
			return landed(lossServers[(r+id)%3])
		case id == 0 && r >= 5:
			if r == 5 {
				return probe.Event{Status: 200, Backend: "s2", TokenHeld: true, TokenSent: "s1", TokenSet: "s2", Latency: 1500 * time.Millisecond}
			}
			return kept("s2")
		}
		return kept(home)
	}}
	r := judgeLoss(t, tl, LossFailoverStay)
	if r.Verdict != Fail || r.Summary.Broken != 1 || r.BackendLoss != nil {
		t.Fatalf("verdict %s, broken %d, loss %+v; want one broken session and no loss", r.Verdict, r.Summary.Broken, r.BackendLoss)
	}
}

// scramble is a fixed pseudo-random choice per request (splitmix64), as a
// load balancer without persistence makes.
func scramble(r, id int) int {
	x := uint64(r)<<32 | uint64(id)
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return int((x ^ x>>31) >> 1)
}

// A monitor's kept sessions pinned, in an earlier cycle, to a backend that
// died in between: it answers nobody in this cycle, and their moves took
// the LB's retries.
func TestLossOfACarriedPin(t *testing.T) {
	opts := testOptions()
	opts.MinStickiness, opts.OnBackendLoss = 1, LossFailoverStay
	s := NewSummary(opts)
	tl := timeline{rounds: 6, measured: 15, control: 3, step: func(r, id int) probe.Event {
		home := lossServers[id%3]
		switch {
		case id >= 15:
			return landed(lossServers[1+(r+id)%2])
		case home != "s1":
			return kept(home)
		case r == 0:
			return probe.Event{Status: 200, Backend: "s2", TokenHeld: true, TokenSent: "s1", TokenSet: "s2", Latency: 1500 * time.Millisecond}
		}
		return kept("s2")
	}}
	for id := range 15 {
		s.CarryPin(id, lossServers[id%3])
	}
	evs := tl.events()
	for i := range evs {
		s.Add(&evs[i])
	}
	r := s.Close(testRun())
	if r.Verdict != Pass || r.Summary.Moved != 5 || r.BackendLoss == nil || r.BackendLoss.Lost[0].Backend != "s1" {
		t.Fatalf("verdict %s, moved %d, loss %+v (%q); want pass, s1's 5 sessions moved", r.Verdict, r.Summary.Moved, r.BackendLoss, r.Reasons)
	}
}

// A move the LB decided while the backend was gone (a redispatch after
// retries) is answered only once the backend is back and answering
// others: it is still a move off the lost backend, judged by when its
// request was sent.
func TestMoveSentDuringTheLossAnsweredAfterIt(t *testing.T) {
	const down, back = 5, 12 // s1 answers nobody in rounds [5, 12)
	tl := timeline{rounds: 20, measured: 15, control: 3, step: func(r, id int) probe.Event {
		alive := lossServers
		if r >= down && r < back {
			alive = []string{"s2", "s3"}
		}
		if id >= 15 {
			return landed(alive[(r+id)%len(alive)])
		}
		home := lossServers[id%3]
		switch {
		case r == 0:
			return landed(home)
		case home != "s1":
			return kept(home)
		case id == 0 && r < down:
			return kept("s1")
		case id == 0 && r < 11:
			return failed("s1", probe.ErrHTTP5xx) // retried, no answer yet
		case id == 0 && r == 11:
			ev := probe.Event{Status: 200, Backend: "s3", TokenHeld: true, TokenSent: "s1", TokenSet: "s3"}
			ev.Latency = 300 * time.Millisecond // sent in round 11, answered after s1's return in round 12
			return ev
		case id == 0:
			return kept("s3")
		case r < down:
			return kept("s1")
		case r == down:
			return probe.Event{Status: 200, Backend: "s2", TokenHeld: true, TokenSent: "s1", TokenSet: "s2"}
		}
		return kept("s2")
	}}
	r := judgeLoss(t, tl, LossFailoverStay)
	if r.Verdict != Pass || r.Summary.Broken != 0 || r.Summary.Moved != 5 {
		t.Fatalf("verdict %s, broken %d, moved %d, causes %v, loss %+v; want pass, s1's 5 sessions moved", r.Verdict, r.Summary.Broken, r.Summary.Moved, r.Causes, r.BackendLoss)
	}
}

// A rolling restart of the backends: s1 goes away and comes back, then
// s2 does. s1's users move to s2, then off s2 to s3: two expected moves
// under failover-stay, not a bounce. A session that moves back while its
// new backend is still up did bounce.
func TestRollingRestartTwoMoves(t *testing.T) {
	down := map[string][2]int{"s1": {5, 9}, "s2": {12, 16}} // rounds [from, to) each answers nobody
	up := func(b string, r int) bool { d, ok := down[b]; return !ok || r < d[0] || r >= d[1] }
	tl := timeline{rounds: 22, measured: 15, control: 3, step: func(r, id int) probe.Event {
		var alive []string
		for _, b := range lossServers {
			if up(b, r) {
				alive = append(alive, b)
			}
		}
		if id >= 15 {
			return landed(alive[(r+id)%len(alive)])
		}
		home := lossServers[id%3]
		moveTo := func(from, to string) probe.Event {
			return probe.Event{Status: 200, Backend: to, TokenHeld: true, TokenSent: from, TokenSet: to}
		}
		switch {
		case r == 0:
			return landed(home)
		case home == "s1" && id == 0 && r == 10: // bounces back to s1 while s2 is up
			return moveTo("s2", "s1")
		case home == "s1" && id == 0 && r > 10:
			return kept("s1")
		case home == "s1" && r < 5, home == "s3":
			return kept(home)
		case home == "s1" && r == 5:
			return moveTo("s1", "s2")
		case home == "s1" && r < 12, home == "s2" && r < 12:
			return kept("s2")
		case r == 12:
			return moveTo("s2", "s3")
		}
		return kept("s3")
	}}
	r := judgeLoss(t, tl, LossFailoverStay)
	if r.Summary.Moved != 9 || r.Summary.Broken != 1 || r.Causes[CauseTokenReassigned] != 1 {
		t.Fatalf("moved %d, broken %d, causes %v, loss %+v; want 9 moved (4 of s1's twice, s2's 5 once) and the bouncing session broken",
			r.Summary.Moved, r.Summary.Broken, r.Causes, r.BackendLoss)
	}
	if r.BackendLoss == nil || len(r.BackendLoss.Lost) != 2 {
		t.Fatalf("loss %+v: want s1 and s2 lost", r.BackendLoss)
	}
}
