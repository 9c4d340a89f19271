package report

import (
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
)

// Synthetic event streams for the tests: a session is a script of events
// in which only what the test is about is written down; session, seq,
// frontend, start, latency and token name are filled in.

var testStart = time.Date(2025, 3, 14, 3, 7, 0, 0, time.UTC)

// testRun is the fixed Run of the golden reports.
func testRun() Run {
	return Run{
		Targets:   []string{"http://shop.example/"},
		Identify:  "header:X-Backend",
		Token:     "cookie:SERVERID",
		Conn:      "fresh",
		Seed:      42,
		Started:   testStart,
		DurationS: 12.5,
	}
}

// testOptions are the thresholds of a cookie-persistence run.
func testOptions() Options {
	return Options{MinStickiness: 0.99, MaxErrorRate: 0.05, CookieToken: true}
}

type script struct {
	id      int
	control bool
	noToken bool // the run has no token (--token none or source)
	steps   []probe.Event
}

// events fills in what the script left out. Latencies are deterministic
// and vary with session and seq, so quantiles have something to show.
func (sc script) events() []probe.Event {
	out := make([]probe.Event, len(sc.steps))
	for i, ev := range sc.steps {
		ev.Session, ev.Control, ev.Seq = sc.id, sc.control, i
		if ev.Frontend == "" {
			ev.Frontend = "http://shop.example/"
		}
		ev.Start = testStart.Add(time.Duration(sc.id*1000+i) * time.Millisecond)
		if ev.Latency == 0 {
			ev.Latency = time.Duration(3000+((sc.id*37+i*11)%23)*700) * time.Microsecond
		}
		if ev.TokenName == "" && !sc.noToken {
			ev.TokenName = "SERVERID"
		}
		out[i] = ev
	}
	return out
}

// feed adds the scripts' events round-robin, one request of each session
// per round, as the probe's shuffled rounds do.
func feed(s *Summary, scripts ...script) *Summary {
	evs := make([][]probe.Event, len(scripts))
	rounds := 0
	for i, sc := range scripts {
		evs[i] = sc.events()
		rounds = max(rounds, len(evs[i]))
	}
	for r := 0; r < rounds; r++ {
		for i := range evs {
			if r < len(evs[i]) {
				s.Add(&evs[i][r])
			}
		}
	}
	return s
}

// Steps of a cookie-persistence session. The LB's cookie value is the
// backend's name.

// landed: answered by b, which sets its cookie.
func landed(b string) probe.Event {
	return probe.Event{Status: 200, Backend: b, TokenSet: b}
}

// kept: the cookie of b was sent and b answered.
func kept(b string) probe.Event {
	return probe.Event{Status: 200, Backend: b, TokenHeld: true, TokenSent: b}
}

// bare: answered by b, no cookie either way.
func bare(b string) probe.Event {
	return probe.Event{Status: 200, Backend: b}
}

// failed: the request failed with kind k while the cookie of b was sent.
func failed(b string, k probe.ErrorKind) probe.Event {
	ev := probe.Event{Error: k, TokenHeld: true, TokenSent: b, Detail: "synthetic"}
	if k == probe.ErrHTTP5xx {
		ev.Status = 503
	}
	return ev
}

// sticky is a session that lands on b and stays for n requests.
func sticky(id int, b string, n int) script {
	sc := script{id: id, steps: []probe.Event{landed(b)}}
	for len(sc.steps) < n {
		sc.steps = append(sc.steps, kept(b))
	}
	return sc
}

// control is a control session answered by the given backends in turn:
// it keeps no cookie, so the LB sets one on every response.
func control(id int, backends ...string) script {
	sc := script{id: id, control: true}
	for _, b := range backends {
		sc.steps = append(sc.steps, landed(b))
	}
	return sc
}

// rr returns n backends of list in round-robin order from offset.
func rr(offset, n int, list ...string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = list[(offset+i)%len(list)]
	}
	return out
}
