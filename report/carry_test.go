package report

import (
	"testing"

	"github.com/stickyprobe/stickyprobe/probe"
)

func TestCarryPin(t *testing.T) {
	reassigned := kept("s2")
	reassigned.TokenSent, reassigned.TokenSet = "s1", "s2"
	tests := []struct {
		name      string
		carry     string // backend carried from the previous run; "" none
		steps     []probe.Event
		wantCause Cause // "" sticky
		wantPin   string
	}{
		{name: "stays on the carried backend", carry: "s1", steps: []probe.Event{kept("s1"), kept("s1")}, wantPin: "s1"},
		{name: "expired while idle: reassigned on the first request", carry: "s1",
			steps: []probe.Event{reassigned, kept("s2")}, wantCause: CauseTokenReassigned, wantPin: "s1"},
		{name: "without a carry the same run looks sticky",
			steps: []probe.Event{reassigned, kept("s2")}, wantPin: "s2"},
		{name: "one identified response is enough with a carry", carry: "s1",
			steps: []probe.Event{{Status: 200, TokenHeld: true, TokenSent: "s1"}, kept("s1")}, wantPin: "s1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSummary(testOptions())
			s.CarryPin(1, tt.carry)
			r := feed(s, script{id: 1, steps: tt.steps}).Close(testRun())
			if r.Summary.Sessions != 1 || r.Summary.Unidentified != 0 {
				t.Fatalf("summary %+v, want one judged session", r.Summary)
			}
			if tt.wantCause == "" {
				if r.Summary.Sticky != 1 {
					t.Errorf("sticky %d, causes %v: want the session sticky", r.Summary.Sticky, r.Causes)
				}
			} else if r.Causes[tt.wantCause] != 1 || r.Summary.Broken != 1 {
				t.Errorf("causes %v, want {%s: 1}", r.Causes, tt.wantCause)
			}
			if r.Backends[tt.wantPin].Sessions != 1 {
				t.Errorf("backends %v, want the session pinned to %s", r.Backends, tt.wantPin)
			}
		})
	}
}

func TestCarryPinAfterFirstEventIsIgnored(t *testing.T) {
	s := NewSummary(testOptions())
	evs := script{id: 0, steps: []probe.Event{landed("s1"), kept("s1")}}.events()
	s.Add(&evs[0])
	s.CarryPin(0, "s2")
	s.CarryPin(0, "")
	s.Add(&evs[1])
	if r := s.Close(testRun()); r.Summary.Sticky != 1 {
		t.Errorf("a late carry changed the verdict: %+v %v", r.Summary, r.Causes)
	}
}

func TestCarryPinOfABackendThatNeverAnswers(t *testing.T) {
	s := NewSummary(testOptions())
	first := sticky(0, "s1", 2).events()
	s.Add(&first[0])
	s.CarryPin(1, "gone") // interned last, never seen in this run
	for _, ev := range append(first[1:], sticky(1, "s1", 2).events()...) {
		s.Add(&ev)
	}
	r := s.Close(testRun())
	if b := r.Backends["gone"]; b.Sessions != 1 || b.Requests != 0 {
		t.Errorf("backend gone = %+v, want 1 pinned session and no request", b)
	}
	if r.Causes[CauseNoToken]+r.Causes[CauseTokenIgnored]+r.Causes[CauseTokenReassigned] != 1 {
		t.Errorf("causes %v, want the carried session broken", r.Causes)
	}
}
