package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
)

// lossEvents: s1 is gone from round 19, and of its sessions only session
// 0 sees it: one fast move, which is a loss only by the LB's word.
func lossEvents() []probe.Event {
	return onlyFirstSees(killRun{rounds: 20, kills: map[string]int{"s1": 19}}.timeline().events(), 19)
}

// lossLBState is what the LB said of that run: it marked s1's server
// down (named by its cookie value s1 in be_app) 1.9 s in. changes pads
// it with state changes, to make the trailer long.
func lossLBState(changes int) *LBState {
	st := &LBState{Source: "haproxy runtime api", Socket: "/run/haproxy.sock", Version: "2.6.12", Polls: 3,
		Outages: []LBOutage{{Backend: "be_app", Server: "server1", State: "down", Down: testStart.Add(1900 * time.Millisecond)}},
		Cookies: map[string]map[string]string{"be_app": {"s1": "server1", "s2": "server2", "s3": "server3"}},
		Changes: []LBChange{{At: testStart.Add(1900 * time.Millisecond), Backend: "be_app", Server: "server1", From: "up", To: "down"}},
	}
	for i := 0; i < changes; i++ {
		st.Changes = append(st.Changes, LBChange{At: testStart.Add(2 * time.Second), Backend: "be_app", Server: fmt.Sprintf("pad%05d", i), From: "up", To: "maint"})
	}
	return st
}

// redispatchJoin is a config with `option redispatch` (a finding only a
// token-reassigned session shows), a failing finding of no-token, and one
// of no cause.
func redispatchJoin() *ConfigJoin {
	f := func(id, sev string, cause Cause, failing bool, problem string) JoinFinding {
		return JoinFinding{Cause: cause, Failing: failing, ConfigFinding: ConfigFinding{ID: id, Severity: sev,
			Where: "haproxy.cfg:23", Backend: "be_app", Problem: problem}}
	}
	return &ConfigJoin{Files: []string{"haproxy.cfg"},
		Served:        []ServedBackend{{File: "haproxy.cfg", Frontend: "fe", Backend: "be_app", Rule: "haproxy.cfg:12 default_backend be_app"}},
		OnBackendLoss: LossFailoverStay, OnBackendLossFrom: "haproxy.cfg:23 option redispatch",
		Findings: []JoinFinding{
			f("redispatch", "info", CauseTokenReassigned, false, "backend be_app has `option redispatch` (haproxy.cfg:23): when a user's server goes away it moves"),
			f("server-without-cookie", "error", CauseNoToken, true, "servers have no `cookie` value"),
			f("timeouts", "warning", "", true, "no `timeout server`"),
		}}
}

// liveLossReport judges the events as a live run with the LB's word
// does, annotated as run --haproxy-socket --haproxy-config annotates it.
func liveLossReport(evs []probe.Event, opts Options, st *LBState, j *ConfigJoin) *Report {
	s := NewSummary(opts)
	s.SetServerStates(st)
	for i := range evs {
		s.Add(&evs[i])
	}
	rep := s.Close(testRun())
	rep.LBState = st
	j.Apply(rep)
	return rep
}

func saveReport(t *testing.T, h EventsHeader, evs []probe.Event, rep *Report) []byte {
	t.Helper()
	return saveWith(t, h, evs, func(enc *EventEncoder) error { return enc.CloseReport(testRun(), rep) })
}

func lossOptions() Options {
	opts := testOptions()
	opts.MinStickiness, opts.MaxErrorRate, opts.OnBackendLoss = 1, 1, LossFailoverStay
	return opts
}

// A run with the LB's word and a config join, saved and replayed, from
// memory (a scan for the trailer) and from a file (read from its end,
// with a trailer longer than the first bite): the same report in every
// format, the same LB state, config and hints, and the same backend-loss
// verdict, which only the LB's word makes.
func TestReplayKeepsLBStateAndConfig(t *testing.T) {
	evs, opts := lossEvents(), lossOptions()
	for _, pad := range []int{0, 2000} {
		st := lossLBState(pad)
		live := liveLossReport(evs, opts, st, redispatchJoin())
		if live.Verdict != Pass || live.BackendLoss == nil || !slices.Equal(live.BackendLoss.Lost[0].Evidence, []Evidence{EvidenceLBState}) {
			t.Fatalf("live: verdict %s, loss %+v; want pass by the LB's word", live.Verdict, live.BackendLoss)
		}
		data := saveReport(t, header(opts, testRun(), evs), evs, live)
		if last := data[bytes.LastIndexByte(data[:len(data)-1], '\n')+1:]; pad > 0 && len(last) <= tailChunk {
			t.Fatalf("trailer of %d bytes: want one longer than %d", len(last), tailChunk)
		}
		path := filepath.Join(t.TempDir(), "events.jsonl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, src := range []Source{memSource("events.jsonl", data), FileSource(path)} {
			rp, err := NewReplay(src)
			if err != nil {
				t.Fatal(err)
			}
			rep, _, err := rp.Report()
			if err != nil {
				t.Fatal(err)
			}
			if w := rp.Warnings(); len(w) > 0 {
				t.Errorf("warnings: %q", w)
			}
			if !reflect.DeepEqual(rep.LBState, live.LBState) || !reflect.DeepEqual(rep.BackendLoss, live.BackendLoss) ||
				!reflect.DeepEqual(rep.HAProxyConfig, live.HAProxyConfig) || !reflect.DeepEqual(rep.Hints, live.Hints) {
				t.Errorf("pad %d, %T: replay differs:\nlb %+v\nloss %+v\nconfig %+v\nhints %q", pad, src.Open, rep.LBState, rep.BackendLoss, rep.HAProxyConfig, rep.Hints)
			}
			want, got := renderAll(t, live), renderAll(t, rep)
			for ext := range want {
				if !bytes.Equal(want[ext], got[ext]) {
					t.Errorf("%s: replay differs from the live run\nlive:\n%s\nreplay:\n%s", ext, want[ext], got[ext])
				}
			}
		}
	}
	// Without the LB's word the same events are judged otherwise: the
	// test above would catch a replay that lost it.
	s := NewSummary(opts)
	for i := range evs {
		s.Add(&evs[i])
	}
	if blind := s.Close(testRun()); blind.Verdict == Pass {
		t.Errorf("without the LB's word: verdict %s, loss %+v; want it to differ from the live run's", blind.Verdict, blind.BackendLoss)
	}
}

// Re-judged with --on-backend-loss strict, the sessions moved off the
// lost backend are broken (token-reassigned): the config join ties them
// to `option redispatch`, which the live run had no cause for, and the
// finding it had counted among the others.
func TestRejudgeTiesConfigToNewCauses(t *testing.T) {
	opts := testOptions()
	opts.MinStickiness, opts.MaxErrorRate, opts.OnBackendLoss, opts.MinBackends = 1, 0, LossFailoverStay, -1
	tl := failover(6, -1, false)
	evs := tl.events()
	h := EventsHeader{Sessions: tl.measured, Control: tl.control, Options: opts, Run: testRun()}
	live := liveLossReport(evs, opts, &LBState{Source: "haproxy runtime api", Socket: "s"}, redispatchJoin())
	if live.Verdict != Pass || live.Causes[CauseTokenReassigned] != 0 || live.HAProxyConfig.Findings != nil || live.HAProxyConfig.Other != 2 {
		t.Fatalf("live: verdict %s, causes %v, config %+v", live.Verdict, live.Causes, live.HAProxyConfig)
	}
	rp, err := NewReplay(memSource("events.jsonl", saveReport(t, h, evs, live)))
	if err != nil {
		t.Fatal(err)
	}
	strict := rp.Options()
	strict.OnBackendLoss = LossStrict
	rp.Rejudge(strict)
	r, _, err := rp.Report()
	if err != nil {
		t.Fatal(err)
	}
	hc := r.HAProxyConfig
	if r.Causes[CauseTokenReassigned] != 4 || hc == nil || len(hc.Findings[CauseTokenReassigned]) != 1 || hc.Other != 2 {
		t.Fatalf("strict: causes %v, config %+v; want 4 token-reassigned tied to option redispatch", r.Causes, hc)
	}
	want := "haproxy.cfg:23 backend be_app has `option redispatch` (haproxy.cfg:23) (redispatch). " + CauseTokenReassigned.Hint()
	if got := r.Hints[CauseTokenReassigned]; got != want {
		t.Errorf("hint %q\nwant %q", got, want)
	}
	var table bytes.Buffer
	if err := Table(&table, r); err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(table.String()), " ")
	for _, s := range []string{"1 config finding(s) explain the causes below", "hint for token-reassigned: haproxy.cfg:23 backend be_app has",
		"the config implies --on-backend-loss failover-stay"} {
		if !strings.Contains(flat, s) {
			t.Errorf("table lacks %q:\n%s", s, table.String())
		}
	}
}

// Files without the new trailer fields (written before them, or by a run
// without --haproxy-socket and --haproxy-config) replay as before, and
// such a run still writes the trailer it wrote before.
func TestReplayOldTrailer(t *testing.T) {
	rp, err := NewReplay(memSource("old.jsonl", []byte(file(testHeader, testEvent0, testEvent1, testControl, testTrailer))))
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := rp.Report()
	if err != nil || rep.LBState != nil || rep.HAProxyConfig != nil || len(rp.Warnings()) > 0 || rep.Run.DurationS != 0.5 {
		t.Fatalf("%v: lb %v, config %v, warnings %q, run %+v", err, rep.LBState, rep.HAProxyConfig, rp.Warnings(), rep.Run)
	}
	var buf bytes.Buffer
	enc, _ := NewEventEncoder(&buf, EventsHeader{})
	bare := &Report{HAProxyConfig: &HAProxyConfig{Files: []string{"x.cfg"}}} // not made by a join: nothing to keep
	if err := enc.CloseReport(testRun(), bare); err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	trailer := buf.Bytes()[bytes.IndexByte(buf.Bytes(), '\n')+1:]
	if err := json.Unmarshal(trailer, &keys); err != nil || len(keys) != 3 {
		t.Errorf("trailer %s: want only stickyprobe_events_end, events and run", trailer)
	}
}

// Merged files: the LB's word of each is evidence, the first's is shown,
// and the others are named.
func TestReplayMergedLBStates(t *testing.T) {
	evs, opts := lossEvents(), lossOptions()
	live := liveLossReport(evs, opts, lossLBState(0), redispatchJoin())
	data := saveReport(t, header(opts, testRun(), evs), evs, live)
	other := *live
	other.LBState = &LBState{Source: "haproxy runtime api", Socket: "/other.sock"}
	rp, err := NewReplay(memSource("b.jsonl", saveReport(t, header(opts, testRun(), evs), evs, &other)), memSource("a.jsonl", data))
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := rp.Report()
	if err != nil {
		t.Fatal(err)
	}
	if rep.LBState == nil || rep.LBState.Socket != "/other.sock" || rep.BackendLoss == nil || !slices.Contains(rep.BackendLoss.Lost[0].Evidence, EvidenceLBState) {
		t.Errorf("lb %+v, loss %+v: want b's state shown, a's outage as evidence", rep.LBState, rep.BackendLoss)
	}
	if w := strings.Join(rp.Warnings(), "\n"); !strings.Contains(w, "a.jsonl also has what the LB said; the report shows b.jsonl's") || strings.Contains(w, "--haproxy-config") {
		t.Errorf("warnings %q", w)
	}
}

func TestLBStateDownAtByCookie(t *testing.T) {
	st := lossLBState(0)
	for _, name := range []string{"server1", "s1"} {
		if down, _, ok := st.DownAt(name); !ok || !down.Equal(testStart.Add(1900*time.Millisecond)) {
			t.Errorf("DownAt(%s) = %v %v", name, down, ok)
		}
	}
	if _, _, ok := st.DownAt("s2"); ok {
		t.Error("DownAt(s2): server2 was never down")
	}
}

// FuzzReplayTrailer: whatever the file, a replay with what its trailer
// says of the LB and its config never panics, renders in every format,
// and fails only with ErrEvents; the trailer read from the file's end is
// the one a scan finds.
func FuzzReplayTrailer(f *testing.F) {
	evs, opts := lossEvents(), lossOptions()
	live := liveLossReport(evs[:40], opts, lossLBState(2), redispatchJoin())
	var buf bytes.Buffer
	enc, _ := NewEventEncoder(&buf, EventsHeader{Sessions: 15, Control: 3, Options: opts, Run: testRun()})
	for i := range evs[:40] {
		enc.Encode(&evs[i])
	}
	enc.CloseReport(testRun(), live)
	f.Add(buf.Bytes())
	f.Add([]byte(file(testHeader, testEvent0, testEvent1, testControl, testTrailer)))
	f.Add([]byte(file(testHeader, testEvent0, `{"stickyprobe_events_end":1,"events":1,"run":{},"lb_state":{"outages":[{"server":"s1"}],"cookies":{"b":null}},"haproxy_config_join":{"findings":[{"cause":"no-token","failing":true}]}}`)))
	f.Add([]byte(file(testHeader, testEvent0, `{"stickyprobe_events_end":1,"events":1,"haproxy_config_join":null}`, "  \r")))
	f.Fuzz(func(t *testing.T, data []byte) {
		seek, scan := lastLine(bytes.NewReader(data)), lastLine(io.MultiReader(bytes.NewReader(data)))
		if !bytes.Equal(seek, scan) {
			t.Fatalf("last line from the end %q, by a scan %q", seek, scan)
		}
		rp, err := NewReplay(memSource("fuzz.jsonl", data))
		if err != nil {
			if !errors.Is(err, ErrEvents) {
				t.Fatalf("error without ErrEvents: %v", err)
			}
			return
		}
		if h := rp.files[0].header; h.Sessions+h.Control > 1<<14 {
			return // as in FuzzEventDecoder: slow, not wrong
		}
		for _, strict := range []bool{false, true} {
			if strict {
				o := rp.Options()
				o.OnBackendLoss = LossStrict
				rp.Rejudge(o)
			}
			rep, _, err := rp.Report()
			if err != nil {
				if !errors.Is(err, ErrEvents) {
					t.Fatalf("error without ErrEvents: %v", err)
				}
				return
			}
			for _, render := range []func(io.Writer, *Report) error{Table, JSON, Markdown, JUnit} {
				if err := render(io.Discard, rep); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
