package report_test

import (
	"fmt"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// Two users and one control session without cookies, two requests each.
// The LB pins user 0 to web1; it answers user 1's second request from web1
// although user 1 sent web2's cookie: that session broke.
func ExampleSummary() {
	s := report.NewSummary(report.Options{MinStickiness: 0.99, MaxErrorRate: 0.01, CookieToken: true})
	events := []probe.Event{
		{Session: 0, Seq: 0, Status: 200, Backend: "web1", TokenName: "SERVERID", TokenSet: "web1"},
		{Session: 1, Seq: 0, Status: 200, Backend: "web2", TokenName: "SERVERID", TokenSet: "web2"},
		{Session: 2, Seq: 0, Status: 200, Backend: "web1", Control: true},
		{Session: 0, Seq: 1, Status: 200, Backend: "web1", TokenName: "SERVERID", TokenHeld: true, TokenSent: "web1"},
		{Session: 1, Seq: 1, Status: 200, Backend: "web1", TokenName: "SERVERID", TokenHeld: true, TokenSent: "web2"},
		{Session: 2, Seq: 1, Status: 200, Backend: "web2", Control: true},
	}
	for i := range events {
		events[i].Latency = time.Duration(10+i) * time.Millisecond
		s.Add(&events[i])
	}
	r := s.Close(report.Run{Token: "cookie:SERVERID"})

	fmt.Println("verdict:", r.Verdict)
	fmt.Printf("stickiness: %.0f%% (%d sticky, %d broken)\n", 100*r.Summary.Stickiness, r.Summary.Sticky, r.Summary.Broken)
	fmt.Println("causes:", r.Causes)
	fmt.Printf("control group: %d of %d switched\n", r.Control.Switched, r.Control.Judged)
	// Output:
	// verdict: fail
	// stickiness: 50% (1 sticky, 1 broken)
	// causes: map[token-ignored:1]
	// control group: 1 of 1 switched
}
