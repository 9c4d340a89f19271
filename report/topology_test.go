package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
)

// A timeline is a run in rounds: in round r every session sends one
// request, at testStart + r×100 ms; step(r, id) says what happened to it.
type timeline struct {
	rounds, measured, control int
	step                      func(r, id int) probe.Event
}

func (tl timeline) summary(opts Options) *Summary {
	s := NewSummary(opts)
	evs := tl.events()
	for i := range evs {
		s.Add(&evs[i])
	}
	return s
}

func (tl timeline) events() []probe.Event {
	var out []probe.Event
	for r := 0; r < tl.rounds; r++ {
		for id := 0; id < tl.measured+tl.control; id++ {
			ev := tl.step(r, id)
			ev.Session, ev.Seq, ev.Control = id, r, id >= tl.measured
			if ev.Frontend == "" {
				ev.Frontend = "http://shop.example/"
			}
			ev.Start = testStart.Add(time.Duration(r)*100*time.Millisecond + time.Duration(id)*time.Millisecond)
			if ev.Latency == 0 {
				ev.Latency = time.Millisecond
			}
			if ev.TokenName == "" {
				ev.TokenName = "SERVERID"
			}
			out = append(out, ev)
		}
	}
	return out
}

// topology is the golden run of several frontends: the failover of s1
// (its sessions move to s2 as failover-stay expects) seen through two LB
// nodes the sessions rotate over, one session that node b moves (its
// cookie values differ), and one split at birth by a burst.
func topology() []probe.Event {
	a, b := "http://a.shop.example/", "http://b.shop.example/"
	fo := failover(6, 16, false)
	tl := timeline{rounds: fo.rounds, measured: 14, control: 6, step: func(r, id int) probe.Event {
		var ev probe.Event
		switch {
		case id < 12:
			ev = fo.step(r, id)
		case id >= 14:
			ev = fo.step(r, id-2)
		case id == 12 && r == 3:
			ev = probe.Event{Status: 200, Backend: "s3", TokenHeld: true, TokenSent: "s1", TokenSet: "b-s3"}
		case id == 12:
			ev = kept([]string{"s1", "s3"}[min(r/4, 1)])
		case r < 3:
			ev = landed(lossServers[r])
			ev.Burst = true
		default:
			ev = kept("s3")
		}
		ev.Frontend = []string{a, b}[(r+id)%2]
		if id == 12 {
			ev.Frontend = []string{a, b}[min(r/3, 1)]
		}
		return ev
	}}
	return tl.events()
}

var lossServers = []string{"s1", "s2", "s3"}

// failover is 12 sessions on s1..s3 (4 each) and 6 control sessions that
// the LB balances over the lossServers that are up. s1 is down in rounds
// [down, up) (up < 0: it never comes back); sessions pinned to it are
// sent to s2 with a new cookie and, if back, return to s1 when it does.
func failover(down, up int, back bool) timeline {
	return timeline{rounds: 24, measured: 12, control: 6, step: func(r, id int) probe.Event {
		s1Up := r < down || (up >= 0 && r >= up)
		if id >= 12 { // control: round robin over what is up
			alive := lossServers
			if !s1Up {
				alive = lossServers[1:]
			}
			return landed(alive[(r+id)%len(alive)])
		}
		home := lossServers[id%3]
		if r == 0 {
			return landed(home)
		}
		if home != "s1" {
			return kept(home)
		}
		switch {
		case r < down:
			return kept("s1")
		case r == down:
			return probe.Event{Status: 200, Backend: "s2", TokenHeld: true, TokenSent: "s1", TokenSet: "s2"} // redispatched
		case s1Up && back && r == up:
			return probe.Event{Status: 200, Backend: "s1", TokenHeld: true, TokenSent: "s2", TokenSet: "s1"}
		case s1Up && back && r > up:
			return kept("s1")
		}
		return kept("s2")
	}}
}

func TestBackendLoss(t *testing.T) {
	tests := []struct {
		name        string
		tl          timeline
		policy      LossPolicy
		wantVerdict Verdict
		wantMoved   int
		wantBroken  map[Cause]int
	}{
		{"stays, failover-stay expected", failover(6, 16, false), LossFailoverStay, Pass, 4, nil},
		{"stays, default policy", failover(6, 16, false), "", Pass, 4, nil},
		{"stays, strict expected", failover(6, 16, false), LossStrict, Fail, 0, map[Cause]int{CauseTokenReassigned: 4}},
		{"stays, failover-return expected", failover(6, 16, false), LossFailoverReturn, Fail, 0, map[Cause]int{CauseTokenReassigned: 4}},
		{"returns, failover-return expected", failover(6, 16, true), LossFailoverReturn, Pass, 4, nil},
		{"returns, failover-stay expected: a bounce", failover(6, 16, true), LossFailoverStay, Fail, 0, map[Cause]int{CauseTokenReassigned: 4}},
		{"never back, failover-return expected", failover(6, -1, false), LossFailoverReturn, Pass, 4, nil},
		{"never back, failover-stay expected", failover(6, -1, false), LossFailoverStay, Pass, 4, nil},
		// s1 down for two rounds only: every one of its sessions left it at
		// once while the others stayed, which is a loss however short.
		{"down two rounds: the departure is evidence", failover(6, 8, false), LossFailoverStay, Pass, 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			opts.MinStickiness, opts.MaxErrorRate, opts.OnBackendLoss = 1, 0, tt.policy
			r := tt.tl.summary(opts).Close(testRun())
			if r.Verdict != tt.wantVerdict || r.Summary.Moved != tt.wantMoved || !equalCauses(r.Causes, tt.wantBroken) {
				t.Fatalf("verdict %s, moved %d, causes %v; want %s, %d, %v (reasons %q)",
					r.Verdict, r.Summary.Moved, r.Causes, tt.wantVerdict, tt.wantMoved, tt.wantBroken, r.Reasons)
			}
			if r.Summary.Broken+r.Summary.Sticky != 12 {
				t.Errorf("sticky %d + broken %d, want 12 judged", r.Summary.Sticky, r.Summary.Broken)
			}
			bl := r.BackendLoss
			if bl == nil || len(bl.Lost) != 1 || bl.Lost[0].Backend != "s1" {
				t.Fatalf("backend loss %+v, want s1 lost once", bl)
			}
			// Its last answer: control session 16 in round 5, 1 ms long.
			if want := testStart.Add(500*time.Millisecond + 17*time.Millisecond); !bl.Lost[0].From.Equal(want) {
				t.Errorf("s1 lost from %s, want its last answer at %s", bl.Lost[0].From, want)
			}
			if back, want := bl.Lost[0].To != nil, !strings.Contains(tt.name, "never"); back != want {
				t.Errorf("s1 back at %v, want back: %v", bl.Lost[0].To, want)
			}
			if tt.wantMoved > 0 && (bl.Lost[0].Moved != tt.wantMoved || len(bl.Moves) != tt.wantMoved || bl.Moves[0].From != "s1" || bl.Moves[0].To != "s2") {
				t.Errorf("lost %+v, moves %+v; want %d moves s1 → s2", bl.Lost[0], bl.Moves, tt.wantMoved)
			}
			if want := min(r.Summary.Broken, 3); len(r.Samples) != want {
				t.Errorf("%d samples for %d broken sessions of one cause, want %d: samples of expected moves go", len(r.Samples), r.Summary.Broken, want)
			}
		})
	}
}

func equalCauses(got map[Cause]int, want map[Cause]int) bool {
	if len(got) != len(want) {
		return false
	}
	for c, n := range want {
		if got[c] != n {
			return false
		}
	}
	return true
}

// A restart: nobody answers anyone for a while, then the sessions land
// elsewhere. That is no backend loss: every backend is back at once.
func TestRestartIsNoBackendLoss(t *testing.T) {
	opts := testOptions()
	opts.MinStickiness, opts.MaxErrorRate = 1, 0
	s := NewSummary(opts)
	add := func(id, seq int, at time.Duration, ev probe.Event) {
		ev.Session, ev.Seq, ev.Control, ev.TokenName = id, seq, id >= 12, "SERVERID"
		ev.Frontend, ev.Start, ev.Latency = "http://shop.example/", testStart.Add(at), time.Millisecond
		s.Add(&ev)
	}
	for r := 0; r < 12; r++ {
		at := time.Duration(r) * 100 * time.Millisecond
		if r >= 6 {
			at += time.Minute // the restart
		}
		for id := 0; id < 18; id++ {
			home := lossServers[id%3]
			switch {
			case id >= 12:
				add(id, r, at, landed(lossServers[(r+id)%3]))
			case r == 0:
				add(id, r, at, landed(home))
			case r < 6:
				add(id, r, at, kept(home))
			default: // the table was lost: everyone shifted by one
				add(id, r, at, kept(lossServers[(id+1)%3]))
			}
		}
	}
	r := s.Close(testRun())
	if r.Verdict != Fail || r.Summary.Moved != 0 || r.Summary.Broken != 12 || r.BackendLoss != nil {
		t.Fatalf("verdict %s, moved %d, broken %d, loss %+v; want every session broken, no backend lost", r.Verdict, r.Summary.Moved, r.Summary.Broken, r.BackendLoss)
	}
}

func TestTopologyCauses(t *testing.T) {
	a, b := "http://a.example/", "http://b.example/"
	on := func(front string, ev probe.Event) probe.Event { ev.Frontend = front; return ev }
	from := func(local string, ev probe.Event) probe.Event { ev.Local = local; return ev }
	burst := func(ev probe.Event) probe.Event { ev.Burst = true; return ev }
	tests := []struct {
		name  string
		opts  func(*Options)
		steps []probe.Event
		want  Cause
	}{
		{"node B does not know node A's cookie", nil, []probe.Event{
			on(a, landed("s1")), on(a, kept("s1")),
			on(b, probe.Event{Status: 200, Backend: "s2", TokenHeld: true, TokenSent: "s1", TokenSet: "b-s2"}),
		}, CauseFrontendChanged},
		{"same node: token-reassigned", nil, []probe.Event{
			on(a, landed("s1")), on(b, kept("s1")),
			on(b, probe.Event{Status: 200, Backend: "s2", TokenHeld: true, TokenSent: "s1", TokenSet: "s2"}),
		}, CauseTokenReassigned},
		{"a missing token outranks the move", nil, []probe.Event{
			on(a, bare("s1")), on(b, bare("s2")),
		}, CauseNoToken},
		{"source moved", func(o *Options) { o.CookieToken, o.SourceToken = false, true }, []probe.Event{
			from("127.0.0.2:4000", bare("s1")), from("127.0.0.2:4001", bare("s1")), from("127.0.0.3:4002", bare("s2")),
		}, CauseSourceChanged},
		{"source kept, port changed: unexplained", func(o *Options) { o.CookieToken, o.SourceToken = false, true }, []probe.Event{
			from("127.0.0.2:4000", bare("s1")), from("127.0.0.2:4001", bare("s1")), from("127.0.0.2:4002", bare("s2")),
		}, CauseUnexplained},
		{"a failed dial says nothing of the source", func(o *Options) { o.CookieToken, o.SourceToken = false, true }, []probe.Event{
			from("127.0.0.2:4000", bare("s1")), {Error: probe.ErrRefused}, from("127.0.0.2:4002", bare("s2")),
		}, CauseAfterError},
		{"split at birth", nil, []probe.Event{
			burst(landed("s1")), burst(landed("s2")), burst(landed("s3")), kept("s3"),
		}, CauseBirthSplit},
		{"one burst, one backend, broken later", nil, []probe.Event{
			burst(landed("s1")), burst(landed("s1")), kept("s1"),
			{Status: 200, Backend: "s2", TokenHeld: true, TokenSent: "s1"},
		}, CauseTokenIgnored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			sc := script{id: 0, steps: tt.steps, noToken: !opts.CookieToken}
			r := feed(NewSummary(opts), sc).Close(testRun())
			if r.Summary.Broken != 1 || r.Causes[tt.want] != 1 {
				t.Fatalf("broken %d, causes %v; want 1 %s", r.Summary.Broken, r.Causes, tt.want)
			}
			if len(r.Samples) != 1 || r.Samples[0].Cause != tt.want {
				t.Fatalf("samples %+v, want one of %s", r.Samples, tt.want)
			}
		})
	}
}

func TestFrontendMatrix(t *testing.T) {
	a, b := "http://a.example/", "http://b.example/"
	on := func(front string, ev probe.Event) probe.Event { ev.Frontend = front; return ev }
	var scripts []script
	for id := 0; id < 4; id++ {
		home := lossServers[id%3]
		scripts = append(scripts, script{id: id, steps: []probe.Event{
			on(a, landed(home)), on(b, probe.Event{Status: 200, Backend: "s3", TokenHeld: true, TokenSent: home, TokenSet: "b-s3"}),
		}})
	}
	r := feed(NewSummary(testOptions()), scripts...).Close(testRun())
	fa, fb := r.Frontends[a], r.Frontends[b]
	if fa.Requests != 4 || fa.Moves != 0 || fa.Backends["s1"] != 2 || fa.Backends["s2"] != 1 || fa.Backends["s3"] != 1 {
		t.Errorf("node a: %+v", fa)
	}
	// Node b answered everyone from s3: the three sessions pinned
	// elsewhere moved there.
	if fb.Requests != 4 || fb.Moves != 3 || fb.Backends["s3"] != 4 || len(fb.Backends) != 1 {
		t.Errorf("node b: %+v, want 4 requests, all from s3, 3 moves", fb)
	}
	if r.Causes[CauseFrontendChanged] != 3 {
		t.Errorf("causes %v, want 3 frontend-changed", r.Causes)
	}
}

func TestSpread(t *testing.T) {
	// n sessions, pinned in turn to the first k of s1..s3; 3 control
	// sessions reach all three.
	run := func(n, k int, opts Options) *Report {
		var scripts []script
		for id := 0; id < n; id++ {
			scripts = append(scripts, sticky(id, lossServers[id%k], 3))
		}
		for id := n; id < n+3; id++ {
			scripts = append(scripts, control(id, rr(id, 3, lossServers...)...))
		}
		return feed(NewSummary(opts), scripts...).Close(testRun())
	}
	base := testOptions()
	base.MinBackends = -1
	tests := []struct {
		name    string
		n, k    int
		edit    func(*Options)
		want    Verdict
		wantMsg string
	}{
		{"even, automatic", 12, 3, nil, Pass, ""},
		{"everyone on one backend, automatic", 12, 1, nil, Fail, "spread: all 12 sessions are pinned to s1 although 3 backends answered"},
		{"everyone on one backend, check off", 12, 1, func(o *Options) { o.MinBackends = 0 }, Pass, ""},
		{"few sessions: chance, automatic says nothing", 4, 1, nil, Pass, ""},
		{"two of three, --min-backends 3", 12, 2, func(o *Options) { o.MinBackends = 3 }, Fail, "spread: all 12 sessions are on 2 backends, the most on s1 (--min-backends 3)"},
		{"two of three, --max-imbalance 1.2", 12, 2, func(o *Options) { o.MaxImbalance = 1.2 }, Fail, "spread: s1 holds 50% of the sessions, 1.50× the fair share of 33% (--max-imbalance 1.2)"},
		{"two of three, --max-imbalance 1.5", 12, 2, func(o *Options) { o.MaxImbalance = 1.5 }, Pass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := base
			if tt.edit != nil {
				tt.edit(&opts)
			}
			r := run(tt.n, tt.k, opts)
			if r.Verdict != tt.want || (tt.wantMsg != "" && !strings.HasPrefix(strings.Join(r.Reasons, "\n"), tt.wantMsg)) {
				t.Fatalf("verdict %s, reasons %q; want %s with %q", r.Verdict, r.Reasons, tt.want, tt.wantMsg)
			}
			if r.Spread.Answering != 3 || r.Spread.Backends != tt.k {
				t.Errorf("spread %+v, want %d pinned backends of 3 answering", r.Spread, tt.k)
			}
			var x bytes.Buffer
			if err := JUnit(&x, r); err != nil {
				t.Fatal(err)
			}
			_, after, _ := strings.Cut(x.String(), `name="spread"`)
			spreadCase, _, _ := strings.Cut(after, "</testcase>")
			if failed := strings.Contains(spreadCase, "<failure"); failed != (tt.want == Fail) {
				t.Errorf("JUnit spread case %q: failed %v, want %v", spreadCase, failed, tt.want == Fail)
			}
		})
	}
}
