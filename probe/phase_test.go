package probe

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// runPhases runs phases on r one after the other, calling MarkAction with
// the name of every non-requests phase, and returns the events.
func runPhases(t *testing.T, r *Runner, phases ...scenarios.Phase) ([]Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := make(chan Event, 4096)
	var err error
	for _, p := range phases {
		if p.Kind != scenarios.PhaseRequests {
			r.MarkAction(p.Name)
			continue
		}
		if err = r.RunPhase(ctx, p, out); err != nil {
			break
		}
	}
	r.Close()
	close(out)
	var events []Event
	for ev := range out {
		events = append(events, ev)
	}
	return events, err
}

func requestsPhase(name string, n int) scenarios.Phase {
	return scenarios.Phase{Name: name, Kind: scenarios.PhaseRequests, Requests: n}
}

// Sessions keep their jars, pins and request numbers from phase to phase;
// the first request after an action carries its name, and only that one.
func TestRunPhasesKeepSessions(t *testing.T) {
	lb := &fakeLB{sticky: true}
	srv := startLB(t, lb)
	spec := testSpec(t, srv.URL)
	spec.Sessions, spec.Requests = 4, 2
	r, err := NewRunner(spec)
	if err != nil {
		t.Fatal(err)
	}
	after := requestsPhase("after", 3)
	after.Paths = []string{"/a", "/b?x=1"}
	events, err := runPhases(t, r, requestsPhase("before", 2), scenarios.Phase{Name: "restart", Kind: scenarios.PhaseExec}, after)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 4*5 {
		t.Fatalf("%d events, want 20", len(events))
	}
	for id, evs := range bySession(t, events) {
		pin := evs[0].Backend
		for _, ev := range evs {
			wantPhase, wantPath, wantAfter := "before", "", ""
			if ev.Seq >= 2 {
				wantPhase, wantPath = "after", []string{"/a", "/b?x=1"}[(ev.Seq-2)%2]
			}
			if ev.Seq == 2 {
				wantAfter = "restart"
			}
			if ev.Phase != wantPhase || ev.Path != wantPath || ev.AfterAction != wantAfter {
				t.Errorf("session %d seq %d: phase %q path %q after %q, want %q %q %q", id, ev.Seq, ev.Phase, ev.Path, ev.AfterAction, wantPhase, wantPath, wantAfter)
			}
			if ev.Frontend != srv.URL+"/" {
				t.Errorf("session %d: frontend %q, want the base URL", id, ev.Frontend)
			}
			if ev.Backend != pin || (ev.Seq > 0 && ev.TokenSent != pin) {
				t.Errorf("session %d seq %d: backend %q sent %q, want the pin %q kept across phases", id, ev.Seq, ev.Backend, ev.TokenSent, pin)
			}
		}
	}
	if got := r.Total(); got != 4*2 {
		t.Errorf("Total() = %d, want 8 (the spec has no phases: one of 2 requests)", got)
	}
}

func TestRunTimedPhase(t *testing.T) {
	srv := startLB(t, &fakeLB{sticky: true})
	spec := testSpec(t, srv.URL)
	spec.Sessions = 2
	r, err := NewRunner(spec)
	if err != nil {
		t.Fatal(err)
	}
	think := 50 * time.Millisecond
	start := time.Now()
	events, err := runPhases(t, r, scenarios.Phase{Name: "soak", Kind: scenarios.PhaseRequests, Duration: 400 * time.Millisecond, Think: &think})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	// 400 ms at one request per 50 ms and session: about 8 each.
	if len(events) < 2*4 || len(events) > 2*9 {
		t.Errorf("%d events in a 400 ms phase with 50 ms think time, want 8..18", len(events))
	}
	if took < 350*time.Millisecond || took > 2*time.Second {
		t.Errorf("timed phase took %s, want about 400 ms", took)
	}
}

// MaxDuration caps the requests phases together, not each one.
func TestRunPhaseMaxDurationSpansPhases(t *testing.T) {
	srv := startLB(t, &fakeLB{sticky: true})
	spec := testSpec(t, srv.URL)
	spec.Sessions = 1
	spec.MaxDuration = 500 * time.Millisecond
	r, err := NewRunner(spec)
	if err != nil {
		t.Fatal(err)
	}
	timed := scenarios.Phase{Name: "a", Kind: scenarios.PhaseRequests, Duration: 350 * time.Millisecond}
	ctx := context.Background()
	out := make(chan Event, 1<<16)
	if err := r.RunPhase(ctx, timed, out); err != nil {
		t.Fatalf("first phase: %v", err)
	}
	timed.Name = "b"
	start := time.Now()
	if err := r.RunPhase(ctx, timed, out); !errors.Is(err, ErrMaxDuration) {
		t.Fatalf("second phase: %v, want ErrMaxDuration", err)
	}
	if took := time.Since(start); took > 300*time.Millisecond {
		t.Errorf("second phase ran %s, want it cut at the remaining ~150 ms", took)
	}
	if err := r.RunPhase(ctx, requestsPhase("c", 1), out); !errors.Is(err, ErrMaxDuration) {
		t.Errorf("third phase: %v, want ErrMaxDuration at once", err)
	}
	if err := r.RunPhase(ctx, scenarios.Phase{Name: "w", Kind: scenarios.PhaseWait}, out); err == nil {
		t.Error("RunPhase accepted a wait phase")
	}
}

// A state saved by one runner and restored into another continues the same
// sessions: same cookies (the token and the application's), same request
// numbers, and the first request marked as after "resume".
func TestSnapshotRestore(t *testing.T) {
	lb := &fakeLB{sticky: true}
	srv := startLB(t, lb)
	spec := testSpec(t, srv.URL)
	spec.Sessions, spec.ControlSessions = 3, 1
	first, err := NewRunner(spec)
	if err != nil {
		t.Fatal(err)
	}
	first.RecordCookies()
	before, err := runPhases(t, first, requestsPhase("before", 2))
	if err != nil {
		t.Fatal(err)
	}
	pins := map[int]string{}
	for _, ev := range before {
		pins[ev.Session] = ev.Backend
	}
	data, err := json.Marshal(first.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"name":"JSESSIONID"`) || !strings.Contains(string(data), `"name":"SERVERID"`) {
		t.Fatalf("snapshot lacks the jar's cookies: %s", data)
	}
	var states []SessionState
	if err := json.Unmarshal(data, &states); err != nil {
		t.Fatal(err)
	}

	second, err := NewRunner(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Restore(states, first.TokenName()); err != nil {
		t.Fatal(err)
	}
	if second.TokenName() != "SERVERID" {
		t.Errorf("restored token name %q", second.TokenName())
	}
	requestsBefore, _ := lb.stats()
	after, err := runPhases(t, second, requestsPhase("after", 2))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range after {
		switch {
		case ev.Seq < 2 || ev.Seq > 3:
			t.Errorf("session %d: seq %d, want 2..3 (continued)", ev.Session, ev.Seq)
		case (ev.Seq == 2) != (ev.AfterAction == "resume"):
			t.Errorf("session %d seq %d: after %q", ev.Session, ev.Seq, ev.AfterAction)
		case ev.Control && ev.TokenSent != "":
			t.Errorf("control session %d sent a token after resume", ev.Session)
		case !ev.Control && (ev.TokenSent != pins[ev.Session] || ev.Backend != pins[ev.Session] || !ev.TokenHeld):
			t.Errorf("session %d seq %d: sent %q held %v backend %q, want its pin %q", ev.Session, ev.Seq, ev.TokenSent, ev.TokenHeld, ev.Backend, pins[ev.Session])
		}
	}
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for _, h := range lb.headers[requestsBefore:] {
		c := h.Get("Cookie")
		if c != "" && !strings.Contains(c, "JSESSIONID=app-") {
			t.Errorf("resumed request sent %q without the application cookie", c)
		}
	}
}

func TestRememberCookies(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &session{}
	set := func(line string) {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatal(err)
		}
		s.remember("http://a.example/", []*http.Cookie{c}, now)
	}
	set("A=1; Path=/")
	set("B=2; Max-Age=60")
	set("A=3; Path=/")                                        // replaces A on /
	set("A=4; Path=/x")                                       // another path: another cookie
	set("B=; Max-Age=0")                                      // Max-Age=0 deletes B
	set("C=5; Max-Age=-1")                                    // deleted before it was kept
	set("A=; Path=/x; Expires=Thu, 01 Jan 1970 00:00:01 GMT") // deletes A on /x
	var got []string
	for _, c := range s.cookies {
		got = append(got, c.Name+"="+c.Value+"@"+c.Path)
	}
	if strings.Join(got, " ") != "A=3@/" {
		t.Errorf("remembered %q, want [A=3@/]", got)
	}
	for i := 0; i < 2*maxSavedCookies; i++ {
		set("N" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "=v")
	}
	if len(s.cookies) != maxSavedCookies {
		t.Errorf("%d cookies kept, want the cap %d", len(s.cookies), maxSavedCookies)
	}
}

func TestRestoreRejects(t *testing.T) {
	spec := testSpec(t, "http://lb.example/")
	spec.Sessions, spec.ControlSessions = 2, 1
	good := func() []SessionState {
		return []SessionState{{ID: 0}, {ID: 1}, {ID: 2, Control: true}}
	}
	tests := []struct {
		name  string
		edit  func([]SessionState) []SessionState
		token string
		want  string
	}{
		{"count", func(s []SessionState) []SessionState { return s[:2] }, "", "2 sessions saved, but this run has 3"},
		{"duplicate id", func(s []SessionState) []SessionState { s[1].ID = 0; return s }, "", "id 0 is out of range or repeated"},
		{"id out of range", func(s []SessionState) []SessionState { s[1].ID = 7; return s }, "", "id 7"},
		{"control mismatch", func(s []SessionState) []SessionState { s[2].Control = false; return s }, "", "control group membership"},
		{"negative seq", func(s []SessionState) []SessionState { s[0].Seq = -1; return s }, "", "seq -1"},
		{"bad cookie url", func(s []SessionState) []SessionState {
			s[0].Cookies = []SavedCookie{{URL: "ftp://x/", Name: "A", Value: "1"}}
			return s
		}, "", "bad url"},
		{"bad cookie name", func(s []SessionState) []SessionState {
			s[0].Cookies = []SavedCookie{{URL: "http://lb.example/", Name: "a b", Value: "1"}}
			return s
		}, "", `cookie "a b" is not a valid cookie`},
		{"bad token name", func(s []SessionState) []SessionState { return s }, "a;b", "token name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRunner(spec)
			if err != nil {
				t.Fatal(err)
			}
			err = r.Restore(tt.edit(good()), tt.token)
			if !errors.Is(err, ErrState) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Restore = %v, want ErrState containing %q", err, tt.want)
			}
		})
	}
	r, _ := NewRunner(spec)
	if err := r.Restore(good(), ""); err != nil {
		t.Errorf("Restore of a good state: %v", err)
	}
}
