package probe

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// runKept plays ss once and returns its events.
func runKept(t *testing.T, r *Runner, ss *Sessions) []Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := make(chan Event)
	errc := make(chan error, 1)
	go func() { errc <- r.RunSessions(ctx, out, ss) }()
	var events []Event
	for ev := range out {
		events = append(events, ev)
	}
	if err := <-errc; err != nil {
		t.Fatalf("RunSessions: %v", err)
	}
	return events
}

func TestRunSessionsKeepsJarsAcrossRuns(t *testing.T) {
	lb := &fakeLB{sticky: true}
	srv := startLB(t, lb)
	spec := testSpec(t, srv.URL)
	spec.ControlSessions = 2
	spec.Seed = 7
	r, err := NewRunner(spec)
	if err != nil {
		t.Fatal(err)
	}
	ss := r.NewSessions()

	first := runKept(t, r, ss)
	pins := make(map[int]string)
	for _, evs := range bySession(t, first) {
		if evs[0].TokenSent != "" {
			t.Errorf("session %d sent a token on its very first request: %+v", evs[0].Session, evs[0])
		}
		pins[evs[0].Session] = evs[0].Backend
	}

	second := runKept(t, r, ss)
	if got, want := len(second), r.Total(); got != want {
		t.Fatalf("second run: %d events, want %d", got, want)
	}
	for id, evs := range bySession(t, second) { // also checks Seq restarts at 0
		for _, ev := range evs {
			switch {
			case ev.Control && ev.TokenSent != "":
				t.Errorf("control session %d sent a token: %+v", id, ev)
			case !ev.Control && ev.TokenSent == "":
				t.Errorf("kept session %d seq %d did not send the token it got in the first run", id, ev.Seq)
			case !ev.Control && ev.Backend != pins[id]:
				t.Errorf("kept session %d seq %d on %s, pinned to %s in the first run", id, ev.Seq, ev.Backend, pins[id])
			}
		}
	}
	// A fresh run of the same runner starts with empty jars.
	fresh, _, err := runAll(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, evs := range bySession(t, fresh) {
		if evs[0].TokenSent != "" {
			t.Errorf("fresh run: session %d sent a token on its first request", evs[0].Session)
		}
	}
}

func TestRunSessionsReshufflesEachRun(t *testing.T) {
	srv := startLB(t, &fakeLB{})
	spec := testSpec(t, srv.URL)
	spec.Sessions, spec.Requests, spec.Concurrency = 12, 1, 1
	r, err := NewRunner(spec)
	if err != nil {
		t.Fatal(err)
	}
	ss := r.NewSessions()
	order := func() []int {
		var ids []int
		for _, ev := range runKept(t, r, ss) {
			ids = append(ids, ev.Session)
		}
		return ids
	}
	a, b := order(), order()
	if len(a) != 12 || slices.Equal(a, b) {
		t.Errorf("two runs of kept sessions visited them in the same order %v, want a new shuffle per run", a)
	}
}

func TestRunSessionsRejectsForeignSessions(t *testing.T) {
	srv := startLB(t, &fakeLB{})
	spec := testSpec(t, srv.URL)
	r1, _ := NewRunner(spec)
	r2, _ := NewRunner(spec)
	out := make(chan Event)
	err := r2.RunSessions(context.Background(), out, r1.NewSessions())
	if !errors.Is(err, errForeignSessions) {
		t.Fatalf("err %v, want errForeignSessions", err)
	}
	if _, open := <-out; open {
		t.Error("out left open")
	}
}
