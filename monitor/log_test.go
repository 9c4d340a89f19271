package monitor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// failedCycle is a cycle whose sessions broke two ways, with several
// samples of one cause.
func failedCycle() pipeline.CycleResult {
	s := report.NewSummary(report.Options{MinStickiness: 1, CookieToken: true})
	add := func(id int, evs ...probe.Event) {
		for seq, ev := range evs {
			ev.Session, ev.Seq, ev.Frontend, ev.TokenName, ev.Status = id, seq, "http://lb/", "SERVERID", 200
			ev.Latency = time.Millisecond
			s.Add(&ev)
		}
	}
	for id := range 4 { // never got a token
		add(id, probe.Event{Backend: "a"}, probe.Event{Backend: "b"})
	}
	add(9, probe.Event{Backend: "a", TokenSet: "s1"}, probe.Event{Backend: "b", TokenHeld: true, TokenSent: "s1", TokenSet: "s2"})
	return pipeline.CycleResult{Number: 7, Report: s.Close(report.Run{DurationS: 2.5})}
}

func TestLogCycleJSON(t *testing.T) {
	var buf bytes.Buffer
	LogCycle(NewLogger(&buf, "json"), failedCycle(), 30*time.Second)
	var lines []map[string]any
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	// One cycle line, then one timeline per cause (not one per sample).
	if len(lines) != 3 {
		t.Fatalf("%d lines, want the cycle and one per cause (2):\n%s", len(lines), buf.String())
	}
	c := lines[0]
	if c["msg"] != "cycle" || c["level"] != "WARN" || c["verdict"] != "fail" || c["cycle"] != 7.0 || c["broken"] != 5.0 || c["next_in"] != "30s" {
		t.Errorf("cycle line %v", c)
	}
	causes, _ := c["causes"].(map[string]any)
	if causes["no-token"] != 4.0 || causes["token-reassigned"] != 1.0 {
		t.Errorf("causes %v, want no-token 4 and token-reassigned 1", c["causes"])
	}
	got := map[string]string{}
	for _, l := range lines[1:] {
		if l["msg"] != "broken session" {
			t.Errorf("line %v, want a broken session", l)
		}
		got[l["cause"].(string)], _ = l["timeline"].(string)
	}
	if want := "#0 a 200 sent=- set=s1 | #1 b 200 sent=s1 set=s2 switch"; got["token-reassigned"] != want {
		t.Errorf("token-reassigned timeline %q, want %q", got["token-reassigned"], want)
	}
	if !strings.Contains(got["no-token"], "switch") {
		t.Errorf("no-token timeline %q shows no switch", got["no-token"])
	}
}

func TestLogCycleInterrupted(t *testing.T) {
	var buf bytes.Buffer
	res := failedCycle()
	res.Interrupted = true
	LogCycle(NewLogger(&buf, "text"), res, 0)
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "not judged") || strings.Contains(out, "broken session") {
		t.Errorf("an interrupted cycle logs one line and judges nothing, got:\n%s", out)
	}
}
