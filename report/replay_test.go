package report

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/internal/harcheck"
	"github.com/stickyprobe/stickyprobe/probe"
)

// The live run and `stickyprobe report EVENTS` must print the same bytes
// in every format. Live: events straight into a Summary; replay: the same
// events through an events file. Both are compared to the golden files.
func TestReplayEqualsLive(t *testing.T) {
	for _, gc := range goldenCases() {
		t.Run(gc.name, func(t *testing.T) {
			run := testRun()
			if gc.run != nil {
				gc.run(&run)
			}
			run.Command = ""
			evs := traced(gc.events())
			live := NewSummary(gc.opts)
			for i := range evs {
				live.Add(&evs[i])
			}
			liveRep := live.Close(run)

			h := header(gc.opts, run, evs)
			h.Run.DurationS = 0 // the header knows the start only
			data := save(t, h, evs, &run)
			rp, err := NewReplay(memSource("events.jsonl", data))
			if err != nil {
				t.Fatal(err)
			}
			rep, sum, err := rp.Report()
			if err != nil {
				t.Fatal(err)
			}
			if w := rp.Warnings(); len(w) > 0 {
				t.Errorf("warnings for a complete file: %q", w)
			}
			want, got := renderAll(t, liveRep), renderAll(t, rep)
			for ext := range want {
				if !bytes.Equal(want[ext], got[ext]) {
					t.Errorf("%s: replay differs from the live run\nlive:\n%s\nreplay:\n%s", ext, want[ext], got[ext])
				}
				golden(t, filepath.Join("testdata", gc.name+"."+ext+".golden"), got[ext])
			}

			var liveHAR, replayHAR bytes.Buffer
			if err := HAR(&liveHAR, live, eventSlice(evs), rp.HAROptions(false)); err != nil {
				t.Fatal(err)
			}
			if err := HAR(&replayHAR, sum, rp, rp.HAROptions(false)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(liveHAR.Bytes(), replayHAR.Bytes()) {
				t.Errorf("HAR: replay differs from the live run\nlive:\n%s\nreplay:\n%s", liveHAR.Bytes(), replayHAR.Bytes())
			}
			golden(t, filepath.Join("testdata", gc.name+".har.golden"), replayHAR.Bytes())
			broken := brokenSessions(evs, gc.opts)
			for _, id := range gc.moved {
				delete(broken, id) // moved off a lost backend, as expected: not broken
			}
			checkHARPages(t, replayHAR.Bytes(), broken)
		})
	}
}

// brokenSessions computes, independently of Summary, which measured
// sessions were answered by two backends.
func brokenSessions(evs []probe.Event, _ Options) map[int]bool {
	seen := map[int]string{}
	out := map[int]bool{}
	for _, ev := range evs {
		if ev.Control || ev.Backend == "" {
			continue
		}
		if pin, ok := seen[ev.Session]; !ok {
			seen[ev.Session] = ev.Backend
		} else if pin != ev.Backend {
			out[ev.Session] = true
		}
	}
	return out
}

// checkHARPages validates the HAR's structure and that its pages are
// exactly the sessions in want, each with its entries.
func checkHARPages(t *testing.T, data []byte, want map[int]bool) *harcheck.Log {
	t.Helper()
	log, err := harcheck.Validate(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	got := map[int]bool{}
	for _, p := range log.Pages {
		sp, _ := p.Custom["_stickyprobe"].(map[string]any)
		id, _ := sp["session"].(float64)
		got[int(id)] = true
		if sp["broken"] != true {
			t.Errorf("page %s: _stickyprobe.broken = %v", p.ID, sp["broken"])
		}
	}
	if len(got) != len(want) {
		t.Errorf("HAR pages for sessions %v, want exactly the broken sessions %v", got, want)
	}
	for id := range want {
		if !got[id] {
			t.Errorf("broken session %d has no HAR page (pages %v)", id, got)
		}
	}
	entries := map[string]int{}
	for _, e := range log.Entries {
		entries[e.Pageref]++
	}
	for _, p := range log.Pages {
		if entries[p.ID] == 0 {
			t.Errorf("page %s has no entries", p.ID)
		}
	}
	return log
}

func TestHARAllAndSwitchVerdicts(t *testing.T) {
	gc := goldenCases()[1] // fail
	evs := traced(ordered(gc.scripts...))
	s := NewSummary(gc.opts)
	for i := range evs {
		s.Add(&evs[i])
	}
	var buf bytes.Buffer
	if err := HAR(&buf, s, eventSlice(evs), HAROptions{All: true, Creator: "stickyprobe test", Redacted: true}); err != nil {
		t.Fatal(err)
	}
	log, err := harcheck.Validate(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(log.Entries) != len(evs) {
		t.Errorf("--har-all: %d entries, want every one of the %d requests", len(log.Entries), len(evs))
	}
	switches, controls := 0, 0
	for _, e := range log.Entries {
		sp := e.Raw["_stickyprobe"].(map[string]any)
		if sp["switch"] == true {
			switches++
			if sp["cause"] == nil || sp["backend"] == sp["pin"] {
				t.Errorf("switch entry without a cause or on its pin: %v", sp)
			}
		}
		if sp["control"] == true {
			controls++
		}
	}
	if switches == 0 || controls == 0 {
		t.Errorf("%d switch entries, %d control entries: want some of each with --har-all", switches, controls)
	}
}

func TestReplayWithoutTrailerIsInterrupted(t *testing.T) {
	gc := goldenCases()[0]
	run := testRun()
	evs := ordered(gc.scripts...)
	rp, err := NewReplay(memSource("cut.jsonl", save(t, header(gc.opts, run, evs), evs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := rp.Report()
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Run.Interrupted || rep.Run.DurationS <= 0 {
		t.Errorf("run %+v: want interrupted with a duration up to the last response", rep.Run)
	}
	if w := rp.Warnings(); len(w) != 1 || !strings.Contains(w[0], "no trailer") {
		t.Errorf("warnings %q, want one about the missing trailer", w)
	}
}

// A probe killed mid-write leaves a last line cut short: it is dropped with
// a warning, and the rest replays as an interrupted run. A line cut short
// anywhere else is still an error naming the line.
func TestReplayDropsTornLastLine(t *testing.T) {
	gc := goldenCases()[0]
	run := testRun()
	evs := ordered(gc.scripts...)
	whole := save(t, header(gc.opts, run, evs), evs, nil)
	for _, cut := range []int{1, 7, 18} {
		data := append(bytes.Clone(whole), `{"session":0,"seq":`[:cut]...)
		rp, err := NewReplay(memSource("torn.jsonl", data))
		if err != nil {
			t.Fatal(err)
		}
		rep, _, err := rp.Report()
		if err != nil {
			t.Fatalf("cut after %d bytes: %v", cut, err)
		}
		if !rep.Run.Interrupted || rep.Summary.Requests != int64(len(evs)) {
			t.Errorf("cut after %d bytes: interrupted %v, %d requests; want interrupted with the %d whole events", cut, rep.Run.Interrupted, rep.Summary.Requests, len(evs))
		}
		if w := strings.Join(rp.Warnings(), "\n"); !strings.Contains(w, "cut short") || !strings.Contains(w, "no trailer") {
			t.Errorf("warnings %q: want the torn line and the missing trailer", w)
		}
	}
	inside := bytes.Replace(whole, []byte("\n"), []byte("\n{\"session\":0,\n"), 2)
	rp, err := NewReplay(memSource("bad.jsonl", inside))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rp.Report(); err == nil || !strings.Contains(err.Error(), "bad.jsonl:2") {
		t.Errorf("a cut line inside the file: %v, want an error at bad.jsonl:2", err)
	}
}

// Two vantage points: session ids are namespaced per file, the backends
// and frontends of both are kept.
func TestReplayMergesVantages(t *testing.T) {
	a, b := goldenCases()[0], goldenCases()[1] // pass, fail
	runA, runB := testRun(), testRun()
	runA.Targets, runA.Seed, runA.Command = []string{"http://eu.shop.example/"}, 7, "stickyprobe run --seed 7 http://eu.shop.example/"
	runB.Seed, runB.Command = 9, "stickyprobe run --seed 9 --header 'Authorization: Bearer redacted:4be0a1' http://shop.example/"
	runB.Started = runB.Started.Add(3e9)
	evA, evB := ordered(a.scripts...), ordered(b.scripts...)
	rp, err := NewReplay(
		memSource("runs/eu/events.jsonl", save(t, header(a.opts, runA, evA), evA, &runA)),
		memSource("runs/us/events.jsonl", save(t, header(b.opts, runB, evB), evB, &runB)),
	)
	if err != nil {
		t.Fatal(err)
	}
	rep, sum, err := rp.Report()
	if err != nil {
		t.Fatal(err)
	}
	sa, sb := NewSummary(a.opts), NewSummary(b.opts)
	for i := range evA {
		sa.Add(&evA[i])
	}
	for i := range evB {
		sb.Add(&evB[i])
	}
	ra, rb := sa.Close(runA), sb.Close(runB)
	if got, want := rep.Summary.Sessions, ra.Summary.Sessions+rb.Summary.Sessions; got != want {
		t.Errorf("merged sessions %d, want %d", got, want)
	}
	if got, want := rep.Summary.Broken, ra.Summary.Broken+rb.Summary.Broken; got != want {
		t.Errorf("merged broken %d, want %d", got, want)
	}
	if len(rep.Run.Vantages) != 2 || rep.Run.Vantages[0].Source != "runs/eu/events.jsonl" || rep.Run.Vantages[1].Seed != 9 {
		t.Errorf("vantages %+v: want both files, labelled by path (same base name)", rep.Run.Vantages)
	}
	if len(rep.Run.Targets) != 2 || rep.Run.DurationS != 15.5 {
		t.Errorf("merged run %+v: want both targets, 15.5 s from the first start to the last end", rep.Run)
	}
	for _, sm := range rep.Samples {
		if sm.Source != "runs/us/events.jsonl" || sm.Session > 15 {
			t.Errorf("sample %+v: want it named by its file and its id in that file", sm)
		}
	}
	for name, be := range ra.Backends {
		if got := rep.Backends[name].Requests; got != be.Requests+rb.Backends[name].Requests {
			t.Errorf("backend %s: %d requests, want the sum of both vantages", name, got)
		}
	}
	for ext, data := range renderAll(t, rep) {
		if ext == "table" || ext == "md" {
			golden(t, filepath.Join("testdata", "merged."+ext+".golden"), data)
		}
	}
	var har bytes.Buffer
	if err := HAR(&har, sum, rp, rp.HAROptions(false)); err != nil {
		t.Fatal(err)
	}
	log, err := harcheck.Validate(har.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range log.Pages {
		if !strings.HasPrefix(p.ID, "runs/us/events.jsonl:session-") {
			t.Errorf("page id %q: want it namespaced by its file", p.ID)
		}
	}
}

func TestReplayLabels(t *testing.T) {
	gc := goldenCases()[0]
	run := testRun()
	evs := ordered(gc.scripts...)
	data := save(t, header(gc.opts, run, evs), evs, &run)
	rp, err := NewReplay(memSource("a/x.jsonl", data), memSource("b/y.jsonl", data), memSource("b/y.jsonl", data))
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, f := range rp.files {
		labels = append(labels, f.label)
	}
	if want := "x.jsonl b/y.jsonl b/y.jsonl#2"; strings.Join(labels, " ") != want {
		t.Errorf("labels %q, want %q", labels, want)
	}
	if l, id := rp.Origin(rp.files[2].offset + 3); l != "b/y.jsonl#2" || id != 3 {
		t.Errorf("Origin = %q %d", l, id)
	}
	if _, err := NewReplay(); err == nil {
		t.Error("NewReplay() with no file: no error")
	}
	if _, err := NewReplay(memSource("bad", []byte("nope\n"))); !errors.Is(err, ErrEvents) {
		t.Errorf("garbage: %v, want ErrEvents", err)
	}
}
