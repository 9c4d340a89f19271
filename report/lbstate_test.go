package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func lbStateReport() *Report {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	up := t0.Add(9 * time.Second)
	return &Report{
		Verdict: Pass,
		Run:     Run{Started: t0},
		LBState: &LBState{
			Source: "haproxy runtime api", Socket: "/run/haproxy.sock", Version: "2.6.12", Polls: 12, FailedPolls: 1,
			Changes: []LBChange{
				{At: t0.Add(3 * time.Second), Backend: "be_app", Server: "server2", From: "up", To: "down"},
				{At: up, Backend: "be_app", Server: "server2", From: "down", To: "up"},
			},
			Outages:      []LBOutage{{Backend: "be_app", Server: "server2", State: "down", Down: t0.Add(3 * time.Second), Up: &up}},
			Restarts:     []LBRestart{{At: t0.Add(5 * time.Second), OldPid: 10, NewPid: 11}},
			Redispatches: []LBRedispatch{{Backend: "be_app", Server: "server2", Wredis: 4, Wretr: 4}},
			Cookies:      map[string]map[string]string{"be_app": {"s2": "server2"}},
			TableEntries: []LBTableEntry{{Session: 7, Table: "be_app", Key: "abc|<x>", Server: "server3", ExpMS: 1500}},
			Warnings:     []string{"poll failed: connection refused"},
		},
	}
}

func TestLBStateRendered(t *testing.T) {
	r := lbStateReport()
	var tb, mdb bytes.Buffer
	if err := Table(&tb, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"What HAProxy said (/run/haproxy.sock, 2.6.12, 12 polls, 1 failed)",
		"  cookie values of be_app: s2 = server2", "  at +3.0 s be_app/server2 up → down", "  at +9.0 s be_app/server2 down → up",
		"  at +5.0 s a new process: pid 10 → 11", "  be_app/server2: 4 redispatched to another server, 4 retried",
		"  stick table be_app: broken session 7's key abc|<x> → server3 (expires in 1.5s)",
		"  warning: poll failed: connection refused",
	} {
		if !strings.Contains(tb.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tb.String())
		}
	}
	if err := Markdown(&mdb, r); err != nil {
		t.Fatal(err)
	}
	md := mdb.String()
	if !strings.Contains(md, "### What HAProxy said") || !strings.Contains(md, `key abc\|&lt;x&gt;`) {
		t.Errorf("markdown section missing or unescaped:\n%s", md)
	}
	r.LBState = nil
	tb.Reset()
	Table(&tb, r)
	if strings.Contains(tb.String(), "said") {
		t.Errorf("a section without LBState:\n%s", tb.String())
	}
}

func TestLBStateQuiet(t *testing.T) {
	r := &Report{LBState: &LBState{Source: "haproxy runtime api", Socket: "s", Polls: 3,
		Cookies: map[string]map[string]string{"be": {"a": "x", "b": "y"}}}}
	lines := lbStateLines(r)
	if len(lines) != 3 || lines[1] != "  cookie values of be: a = x, b = y" || !strings.Contains(lines[2], "no server changed state") {
		t.Errorf("lines = %q", lines)
	}
}

func TestLBStateDownAtAndJSON(t *testing.T) {
	r := lbStateReport()
	down, up, ok := r.LBState.DownAt("server2")
	if !ok || down.Sub(r.Run.Started) != 3*time.Second || up.Sub(r.Run.Started) != 9*time.Second {
		t.Errorf("DownAt(server2) = %v %v %v", down, up, ok)
	}
	if _, _, ok := r.LBState.DownAt("server1"); ok {
		t.Error("DownAt(server1) found")
	}
	var nilState *LBState
	if _, _, ok := nilState.DownAt("server2"); ok {
		t.Error("nil LBState found an outage")
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"lb_state":{`, `"failed_polls":1`, `"table_entries":[`, `"old_pid":10`, `"wredis":4`, `"exp_ms":1500`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
}
