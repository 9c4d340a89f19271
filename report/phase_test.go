package report

import (
	"bytes"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/probe"
)

var restartPlan = []PhasePlan{{"before", "requests"}, {"restart", "exec"}, {"after", "requests"}}

// phased puts the first n steps of sc in phase "before" and the rest in
// "after", marking the first "after" step as following action.
func phased(sc script, n int, action string) script {
	for i := range sc.steps {
		sc.steps[i].Phase = "before"
		if i >= n {
			sc.steps[i].Phase = "after"
		}
		if i == n {
			sc.steps[i].AfterAction = action
		}
	}
	return sc
}

// restartScripts: four sessions survive the restart; one lands elsewhere
// on its first request after it, one on its second, and one after a failed
// request (the LB was still coming up); one breaks before the restart.
func restartScripts(action string) []script {
	var out []script
	for id := 1; id <= 4; id++ {
		out = append(out, phased(sticky(id, servers[id%3], 6), 3, action))
	}
	moved := kept("server2")
	moved.TokenSent, moved.TokenSet = "server1", "server2"
	out = append(out, phased(script{id: 5, steps: []probe.Event{landed("server1"), kept("server1"), kept("server1"),
		moved, kept("server2"), kept("server2")}}, 3, action))
	ignored := kept("server3")
	ignored.TokenSent = "server2"
	out = append(out, phased(script{id: 6, steps: []probe.Event{landed("server2"), kept("server2"), kept("server2"),
		kept("server2"), ignored, ignored}}, 3, action))
	ignored1 := kept("server1")
	ignored1.TokenSent = "server3"
	out = append(out, phased(script{id: 7, steps: []probe.Event{landed("server3"), kept("server3"), kept("server3"),
		failed("server3", probe.ErrReset), ignored1, ignored1}}, 3, action))
	early := kept("server3")
	early.TokenSent = "server1"
	out = append(out, phased(script{id: 8, steps: []probe.Event{landed("server1"), early, kept("server3"),
		kept("server3"), kept("server3"), kept("server3")}}, 3, action))
	for id := 10; id <= 12; id++ {
		out = append(out, phased(control(id, rr(id, 6, servers...)...), 3, action))
	}
	return out
}

func restartSummary(action Action) *Summary {
	s := NewSummary(testOptions())
	s.SetPlan(restartPlan)
	s.Action("restart", action)
	return feed(s, restartScripts("restart")...)
}

var okRestart = Action{Command: "systemctl restart haproxy", DurationS: 1.234}

func restartRun() Run {
	run := testRun()
	run.Scenario = "restart-smoke"
	return run
}

func TestAfterActionClassification(t *testing.T) {
	r := restartSummary(okRestart).Close(restartRun())
	if r.Verdict != Fail {
		t.Fatalf("verdict %s, want fail", r.Verdict)
	}
	if r.Causes[CauseAfterAction] != 3 || r.Causes[CauseTokenIgnored] != 1 || r.Summary.Broken != 4 {
		t.Errorf("causes %v (broken %d), want 3 after-action (first, second request after it, and after a failed one) and 1 token-ignored before it", r.Causes, r.Summary.Broken)
	}
	if !strings.Contains(r.Hints[CauseAfterAction], "peers") {
		t.Errorf("after-action hint does not mention peers: %q", r.Hints[CauseAfterAction])
	}
}

// The wake of an action is the phase right after it: a switch in a later
// phase is judged on its own evidence.
func TestAfterActionWakeEndsWithThePhase(t *testing.T) {
	s := NewSummary(testOptions())
	ignored := kept("server2")
	ignored.TokenSent = "server1"
	sc := script{id: 1, steps: []probe.Event{landed("server1"), kept("server1"), kept("server1"), kept("server1"), ignored}}
	for i, p := range []string{"a", "b", "b", "c", "c"} {
		sc.steps[i].Phase = p
	}
	sc.steps[1].AfterAction = "restart"
	r := feed(s, sc).Close(testRun())
	if r.Causes[CauseTokenIgnored] != 1 || r.Causes[CauseAfterAction] != 0 {
		t.Errorf("causes %v, want token-ignored: the switch came a phase after the one that followed the action", r.Causes)
	}
}

func TestPhasesInReport(t *testing.T) {
	r := restartSummary(okRestart).Close(restartRun())
	if len(r.Phases) != 3 {
		t.Fatalf("phases %+v", r.Phases)
	}
	before, restart, after := r.Phases[0], r.Phases[1], r.Phases[2]
	if before.Name != "before" || before.Requests != 11*3 || before.Broken != 1 || before.Causes[CauseTokenIgnored] != 1 {
		t.Errorf("before: %+v", before)
	}
	if restart.Kind != "exec" || restart.Action == nil || restart.Action.Command != "systemctl restart haproxy" || restart.Requests != 0 {
		t.Errorf("restart: %+v", restart)
	}
	if after.After != "restart" || after.Requests != 11*3 || after.Errors != 1 || after.Broken != 3 || after.Causes[CauseAfterAction] != 3 {
		t.Errorf("after: %+v", after)
	}

	// A run stopped during "before" never reached the rest.
	s := NewSummary(testOptions())
	s.SetPlan(restartPlan)
	r = feed(s, phased(sticky(1, "server1", 2), 2, "")).Close(testRun())
	if r.Phases[0].Skipped || !r.Phases[1].Skipped || !r.Phases[2].Skipped {
		t.Errorf("skipped flags %v %v %v, want false true true", r.Phases[0].Skipped, r.Phases[1].Skipped, r.Phases[2].Skipped)
	}

	// A plain run has no phases section.
	if r := feed(NewSummary(testOptions()), sticky(1, "server1", 3)).Close(testRun()); r.Phases != nil {
		t.Errorf("plain run: phases %+v, want none", r.Phases)
	}
}

func TestFailedActionFailsRun(t *testing.T) {
	sticky := func() []script {
		var out []script
		for id := 1; id <= 3; id++ {
			out = append(out, phased(sticky(id, servers[id%3], 4), 2, "restart"))
		}
		return append(out, phased(control(9, rr(0, 4, servers...)...), 2, "restart"))
	}
	failed := Action{Command: "false", ExitCode: 1, Error: "exit status 1", Failed: true, Output: "boom\n"}
	s := NewSummary(testOptions())
	s.SetPlan(restartPlan)
	s.Action("restart", failed)
	r := feed(s, sticky()...).Close(testRun())
	if r.Verdict != Fail || !strings.Contains(strings.Join(r.Reasons, "\n"), "phase restart failed: exit status 1") {
		t.Errorf("verdict %s reasons %q, want fail naming the phase", r.Verdict, r.Reasons)
	}

	failed.AllowFailure = true
	s = NewSummary(testOptions())
	s.SetPlan(restartPlan)
	s.Action("restart", failed)
	r = feed(s, sticky()...).Close(testRun())
	if r.Verdict != Pass || !strings.Contains(strings.Join(r.Reasons, "\n"), "allow_failure") {
		t.Errorf("allowed failure: verdict %s reasons %q, want pass with a note", r.Verdict, r.Reasons)
	}
}

// Judging the second half in another process, from carried pins, gives
// the verdict and causes of judging both halves in one.
func TestCarryResumeMatchesOneRun(t *testing.T) {
	whole := feed(NewSummary(testOptions()), restartScripts("resume")...).Close(testRun())

	first := NewSummary(testOptions())
	var secondHalves []script
	for _, sc := range restartScripts("resume") {
		a, b := sc, sc
		a.steps, b.steps = sc.steps[:3], append([]probe.Event(nil), sc.steps[3:]...)
		feed(first, a)
		secondHalves = append(secondHalves, b)
	}
	second := NewSummary(testOptions())
	for _, sc := range secondHalves {
		second.Resume(sc.id, sc.control, first.Carry(sc.id))
	}
	// The second process numbers requests from where the first stopped.
	var evs []probe.Event
	for _, sc := range secondHalves {
		for i, ev := range sc.events() {
			ev.Seq = 3 + i
			evs = append(evs, ev)
		}
	}
	for i := range evs {
		second.Add(&evs[i])
	}
	split := second.Close(testRun())
	if split.Verdict != whole.Verdict || split.Summary.Sticky != whole.Summary.Sticky || split.Summary.Broken != whole.Summary.Broken {
		t.Errorf("split run: %s %d sticky %d broken; one run: %s %d sticky %d broken",
			split.Verdict, split.Summary.Sticky, split.Summary.Broken, whole.Verdict, whole.Summary.Sticky, whole.Summary.Broken)
	}
	for _, c := range Causes {
		if split.Causes[c] != whole.Causes[c] {
			t.Errorf("cause %s: %d split, %d in one run", c, split.Causes[c], whole.Causes[c])
		}
	}
	if split.Control != whole.Control {
		t.Errorf("control %+v split, %+v in one run", split.Control, whole.Control)
	}
	if c := first.Carry(5); c.Pin != "server1" || c.Identified != 3 || c.Switches != 0 {
		t.Errorf("Carry(5) = %+v", c)
	}
	if c := first.Carry(99); c != (Carried{}) {
		t.Errorf("Carry of an unknown session = %+v", c)
	}
}

func TestRenderPhasesGolden(t *testing.T) {
	failed := okRestart
	failed.Failed, failed.ExitCode, failed.Error = true, 1, "exit status 1"
	failed.Output = "Job for haproxy.service failed because the control process exited with error code.\n" +
		"See \"systemctl status haproxy.service\" and \"journalctl -xeu haproxy.service\" for details.\n"
	for name, action := range map[string]Action{"restart": okRestart, "restart-failed": failed} {
		r := restartSummary(action).Close(restartRun())
		for ext, render := range map[string]func(*bytes.Buffer, *Report) error{
			"table": func(b *bytes.Buffer, r *Report) error { return Table(b, r) },
			"json":  func(b *bytes.Buffer, r *Report) error { return JSON(b, r) },
			"junit": func(b *bytes.Buffer, r *Report) error { return JUnit(b, r) },
		} {
			var buf bytes.Buffer
			if err := render(&buf, r); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", name+"."+ext+".golden"), buf.Bytes())
			if ext == "table" {
				for i, line := range strings.Split(buf.String(), "\n") {
					if n := len([]rune(line)); n > tableWidth {
						t.Errorf("%s line %d is %d columns wide", name, i+1, n)
					}
				}
			}
		}
	}
}

type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Suites   []struct {
		Name    string `xml:"name,attr"`
		Skipped int    `xml:"skipped,attr"`
		Cases   []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
			Error   *struct{} `xml:"error"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// The JUnit suite fails exactly when the verdict is not pass, and names the
// check that failed.
func TestJUnit(t *testing.T) {
	reports := map[string]*Report{"restart": restartSummary(okRestart).Close(restartRun())}
	for _, gc := range goldenCases() {
		reports[gc.name] = gc.report()
	}
	want := map[string]string{ // test case → result, "" = passed
		"pass":         "stickiness= error-rate= spread= control-group=",
		"fail":         "stickiness=failure error-rate= spread= control-group=",
		"inconclusive": "stickiness= error-rate= spread= control-group=failure",
		"error":        "stickiness=error error-rate= spread=skipped control-group=",
		"interrupted":  "stickiness= error-rate= spread= control-group=",
		"spread":       "stickiness=skipped error-rate= spread= control-group=skipped",
		"topology":     "stickiness=failure error-rate= spread= control-group= backend-loss=",
		"restart":      "stickiness=failure error-rate= spread= control-group= phase before=failure phase restart= phase after=failure",
	}
	for name, r := range reports {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := JUnit(&buf, r); err != nil {
				t.Fatal(err)
			}
			var doc junitDoc
			if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatalf("JUnit output does not parse: %v\n%s", err, buf.String())
			}
			if len(doc.Suites) != 1 {
				t.Fatalf("%d suites", len(doc.Suites))
			}
			var got []string
			for _, c := range doc.Suites[0].Cases {
				res := ""
				switch {
				case c.Failure != nil:
					res = "failure"
				case c.Error != nil:
					res = "error"
				case c.Skipped != nil:
					res = "skipped"
				}
				got = append(got, c.Name+"="+res)
			}
			if strings.Join(got, " ") != want[name] {
				t.Errorf("cases\n got: %s\nwant: %s", strings.Join(got, " "), want[name])
			}
			if failed := doc.Failures+doc.Errors > 0; failed != (r.Verdict != Pass) {
				t.Errorf("verdict %s but %d failures, %d errors", r.Verdict, doc.Failures, doc.Errors)
			}
		})
	}
}
