package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/probe"
)

func TestClassify(t *testing.T) {
	refusedSecure := landed("s1")
	refusedSecure.TokenRefused = probe.RefusedSecure
	deleted := func(b string) probe.Event {
		return probe.Event{Status: 200, Backend: b, TokenDeleted: true}
	}
	with := func(ev probe.Event, f func(*probe.Event)) probe.Event { f(&ev); return ev }

	tests := []struct {
		name      string
		notCookie bool // the token is not a cookie (--token source)
		steps     []probe.Event
		want      Cause
		refusal   probe.Refusal
	}{
		{name: "never set", steps: []probe.Event{bare("s1"), bare("s2")}, want: CauseNoToken},
		{name: "only deleted", steps: []probe.Event{deleted("s1"), deleted("s1"), deleted("s2")}, want: CauseNoToken},
		{
			name:    "refused secure over http",
			steps:   []probe.Event{refusedSecure, bare("s1"), bare("s2")},
			want:    CauseTokenRefused,
			refusal: probe.RefusedSecure,
		},
		{
			name: "held but not sent",
			steps: []probe.Event{landed("s1"), kept("s1"),
				with(bare("s2"), func(e *probe.Event) { e.TokenHeld = true })},
			want: CauseTokenNotSent,
		},
		{
			name:  "sent, other backend, nothing set",
			steps: []probe.Event{landed("s1"), kept("s1"), with(kept("s2"), func(e *probe.Event) { e.TokenSent = "s1" })},
			want:  CauseTokenIgnored,
		},
		{
			name: "sent, other backend, same value set again",
			steps: []probe.Event{landed("s1"),
				with(kept("s2"), func(e *probe.Event) { e.TokenSent, e.TokenSet = "s1", "s1" })},
			want: CauseTokenIgnored,
		},
		{
			name: "sent, other backend, new value set",
			steps: []probe.Event{landed("s1"), kept("s1"),
				with(kept("s2"), func(e *probe.Event) { e.TokenSent, e.TokenSet = "s1", "s2" })},
			want: CauseTokenReassigned,
		},
		{
			name: "after a 5xx",
			steps: []probe.Event{landed("s1"), failed("s1", probe.ErrHTTP5xx),
				with(kept("s2"), func(e *probe.Event) { e.TokenSent, e.TokenSet = "s1", "s2" })},
			want: CauseAfterError,
		},
		{
			name: "after a reset",
			steps: []probe.Event{landed("s1"), kept("s1"), failed("s1", probe.ErrReset),
				with(kept("s2"), func(e *probe.Event) { e.TokenSent = "s1" })},
			want: CauseAfterError,
		},
		{
			name: "a 5xx from the pinned backend, then the switch",
			steps: []probe.Event{landed("s1"), with(failed("s1", probe.ErrHTTP5xx), func(e *probe.Event) { e.Backend = "s1" }),
				with(kept("s2"), func(e *probe.Event) { e.TokenSent = "s1" })},
			want: CauseAfterError,
		},
		{
			name: "an error two requests before is not the cause",
			steps: []probe.Event{landed("s1"), failed("s1", probe.ErrReset), kept("s1"),
				with(kept("s2"), func(e *probe.Event) { e.TokenSent = "s1" })},
			want: CauseTokenIgnored,
		},
		{
			name: "a canceled request is not an error",
			steps: []probe.Event{landed("s1"), failed("s1", probe.ErrCanceled),
				with(kept("s2"), func(e *probe.Event) { e.TokenSent = "s1" })},
			want: CauseTokenIgnored,
		},
		{
			name:  "no token outranks an error",
			steps: []probe.Event{bare("s1"), {Error: probe.ErrReset}, bare("s2")},
			want:  CauseNoToken,
		},
		{
			name: "the first switch is classified, later ones are not",
			steps: []probe.Event{landed("s1"),
				with(kept("s2"), func(e *probe.Event) { e.TokenSent, e.TokenSet = "s1", "s2" }), bare("s3")},
			want: CauseTokenReassigned,
		},
		{name: "source persistence", notCookie: true, steps: []probe.Event{bare("s1"), bare("s2")}, want: CauseUnexplained},
		{
			name: "source persistence after an error", notCookie: true,
			steps: []probe.Event{bare("s1"), {Error: probe.ErrTimeout}, bare("s2")},
			want:  CauseAfterError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			opts.CookieToken = !tt.notCookie
			r := feed(NewSummary(opts), script{id: 1, steps: tt.steps}).Close(testRun())
			if r.Summary.Broken != 1 {
				t.Fatalf("broken sessions = %d, want 1", r.Summary.Broken)
			}
			if got := r.Causes[tt.want]; got != 1 || len(r.Causes) != 1 {
				t.Errorf("causes = %v, want {%s: 1}", r.Causes, tt.want)
			}
			if r.Hints[tt.want] != tt.want.Hint() {
				t.Errorf("hint for %s = %q, want %q", tt.want, r.Hints[tt.want], tt.want.Hint())
			}
			if len(r.Samples) != 1 || r.Samples[0].Cause != tt.want || r.Samples[0].Refusal != tt.refusal {
				t.Fatalf("samples = %+v, want one of cause %s, refusal %q", r.Samples, tt.want, tt.refusal)
			}
			if tt.refusal != "" && r.Refusals[tt.refusal] != 1 {
				t.Errorf("refusals = %v, want {%s: 1}", r.Refusals, tt.refusal)
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	stickyN := func(from, n int) []script {
		var out []script
		for id := from; id < from+n; id++ {
			out = append(out, sticky(id, servers[id%3], 4))
		}
		return out
	}
	broken := func(id int) script { return script{id: id, steps: []probe.Event{bare("server1"), bare("server2")}} }
	moving := func(id int) script { return control(id, "server1", "server2", "server3") }
	still := func(id int) script { return control(id, "server1", "server1", "server1") }
	withFailure := func(sc script) script {
		sc.steps = append(sc.steps, failed(sc.steps[0].Backend, probe.ErrTimeout))
		return sc
	}
	dead := func(id int) script {
		return script{id: id, steps: []probe.Event{{Error: probe.ErrTimeout}, {Error: probe.ErrTimeout}}}
	}
	once := func(id int) script { return script{id: id, steps: []probe.Event{landed("server1"), {Status: 200}}} }
	spreadOpts := Options{MaxErrorRate: 0.05, ExpectSpread: true}

	tests := []struct {
		name    string
		opts    Options
		scripts []script
		want    Verdict
		reason  string // a substring of one of the reasons
	}{
		{name: "pass", scripts: append(stickyN(1, 5), moving(10)), want: Pass, reason: "1 of 1 control sessions without cookies changed backend"},
		{name: "pass without control group", scripts: stickyN(1, 5), want: Pass, reason: "no control group"},
		{name: "fail below min stickiness", scripts: append(stickyN(1, 5), broken(6), moving(10)), want: Fail, reason: "stickiness 83.3%: 1 of 6 sessions changed backend"},
		{
			name: "pass at min stickiness", opts: Options{MinStickiness: 5.0 / 6, MaxErrorRate: 0.05, CookieToken: true},
			scripts: append(stickyN(1, 5), broken(6), moving(10)), want: Pass,
		},
		{
			name: "fail on error rate", opts: Options{MinStickiness: 0.99, MaxErrorRate: 0.01, CookieToken: true},
			scripts: append(stickyN(1, 4), withFailure(sticky(5, "server1", 4)), moving(10)),
			want:    Fail, reason: "error rate 4.17% (1 of 24 requests: 1 timeout) is above --max-error-rate 1.00%",
		},
		{name: "failure outranks inconclusive", scripts: append(stickyN(1, 2), broken(3), still(10)), want: Fail, reason: "stickiness"},
		{name: "inconclusive", scripts: append(stickyN(1, 5), still(10), still(11)), want: Inconclusive, reason: "none of the 2 control sessions"},
		{name: "inconclusive when no control session was judged", scripts: append(stickyN(1, 5), script{id: 10, control: true, steps: []probe.Event{{Status: 200}}}), want: Inconclusive},
		{name: "error without requests", want: Error, reason: "no request completed"},
		{name: "error when every request failed", scripts: []script{dead(1), dead(2)}, want: Error, reason: "every request failed (4 timeout)"},
		{name: "error when no session could be judged", scripts: []script{once(1), once(2), moving(10)}, want: Error, reason: "no session could be judged"},
		{name: "spread pass", opts: spreadOpts, scripts: []script{broken(1), broken(2)}, want: Pass, reason: "spread over 2 backends"},
		{name: "spread fail", opts: spreadOpts, scripts: []script{sticky(1, "server1", 3), sticky(2, "server1", 3)}, want: Fail, reason: "every identified response came from server1"},
		{name: "spread error when no response named a backend", opts: spreadOpts, scripts: []script{{id: 1, steps: []probe.Event{{Status: 200}, {Status: 200}}}}, want: Error, reason: "no response named a backend"},
		{name: "spread fail on error rate", opts: spreadOpts, scripts: []script{broken(1), withFailure(broken(2))}, want: Fail, reason: "error rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts == (Options{}) {
				opts = testOptions()
			}
			r := feed(NewSummary(opts), tt.scripts...).Close(testRun())
			if r.Verdict != tt.want {
				t.Errorf("verdict = %s, want %s (reasons %q)", r.Verdict, tt.want, r.Reasons)
			}
			if len(r.Reasons) == 0 {
				t.Errorf("no reason given for %s", r.Verdict)
			}
			if all := strings.Join(r.Reasons, "\n"); !strings.Contains(all, tt.reason) {
				t.Errorf("reasons = %q, want one containing %q", r.Reasons, tt.reason)
			}
		})
	}
}

func TestControlSessionsAreNotMeasured(t *testing.T) {
	r := feed(NewSummary(testOptions()),
		sticky(1, "server1", 4),
		sticky(2, "server2", 4),
		control(3, "server1", "server2", "server3", "server1"),
		control(4, "server2", "server2", "server2", "server2"),
		control(5, "server3"),
	).Close(testRun())
	wantCounts := Counts{Sessions: 2, Sticky: 2, Stickiness: 1, Requests: 17}
	if r.Summary != wantCounts {
		t.Errorf("summary = %+v, want %+v", r.Summary, wantCounts)
	}
	wantControl := Control{Sessions: 3, Judged: 2, Switched: 1, Sensitivity: 0.5}
	if r.Control != wantControl {
		t.Errorf("control = %+v, want %+v", r.Control, wantControl)
	}
	if len(r.Causes) != 0 || len(r.Samples) != 0 {
		t.Errorf("causes %v, samples %d: control sessions must be neither counted nor sampled", r.Causes, len(r.Samples))
	}
	pinned := 0
	for _, b := range r.Backends {
		pinned += b.Sessions
	}
	if pinned != 2 || r.Backends["server3"].Requests != 2 {
		t.Errorf("backends = %v, want 2 pinned sessions and control requests counted", r.Backends)
	}
}

func TestUnidentifiedSessions(t *testing.T) {
	unnamed := probe.Event{Status: 200}
	r := feed(NewSummary(testOptions()),
		sticky(1, "server1", 3),
		script{id: 2, steps: []probe.Event{landed("server2"), unnamed, unnamed}}, // one identified response
		script{id: 3, steps: []probe.Event{unnamed, unnamed}},                    // none
		script{id: 4, steps: []probe.Event{unnamed, landed("server3"), unnamed, kept("server3")}},
	).Close(testRun())
	c := r.Summary
	if c.Sessions != 4 || c.Unidentified != 2 || c.Sticky != 2 || c.Broken != 0 {
		t.Errorf("summary = %+v, want 4 sessions: 2 unidentified, 2 sticky", c)
	}
}

func TestSamplesAreBounded(t *testing.T) {
	var scripts []script
	for id := 1; id <= 5; id++ { // five no-token sessions
		scripts = append(scripts, script{id: id, steps: []probe.Event{bare("s1"), bare("s2")}})
	}
	// Three token-ignored sessions; the last one is long.
	for id := 6; id <= 8; id++ {
		sc := sticky(id, "s1", 5)
		for range 30 {
			sc.steps = append(sc.steps, kept("s2"))
		}
		sc.steps[5].TokenSent = "s1"
		scripts = append(scripts, sc)
	}
	for _, tt := range []struct{ perCause, want int }{{0, 3}, {1, 1}, {2, 2}, {10, 5}} {
		t.Run(fmt.Sprint("SamplesPerCause ", tt.perCause), func(t *testing.T) {
			opts := testOptions()
			opts.SamplesPerCause = tt.perCause
			r := feed(NewSummary(opts), scripts...).Close(testRun())
			got := map[Cause]int{}
			for _, sm := range r.Samples {
				got[sm.Cause]++
			}
			if got[CauseNoToken] != tt.want || got[CauseTokenIgnored] != min(tt.want, 3) {
				t.Errorf("samples per cause = %v, want %d no-token and %d token-ignored", got, tt.want, min(tt.want, 3))
			}
		})
	}
	r := feed(NewSummary(testOptions()), scripts[5]).Close(testRun())
	steps := r.Samples[0].Steps
	if len(steps) != maxSampleSteps {
		t.Fatalf("%d steps, want %d", len(steps), maxSampleSteps)
	}
	// The first request, the one before the switch, the switch, then what followed.
	for i, want := range []struct {
		seq    int
		sw     bool
		backen string
	}{{0, false, "s1"}, {4, false, "s1"}, {5, true, "s2"}, {6, true, "s2"}} {
		if st := steps[i]; st.Seq != want.seq || st.Switch != want.sw || st.Backend != want.backen {
			t.Errorf("step %d = %+v, want seq %d switch %v backend %s", i, st, want.seq, want.sw, want.backen)
		}
	}
	if r.Samples[0].Pin != "s1" || r.Samples[0].Steps[2].TokenSent != "s1" {
		t.Errorf("sample = %+v, want pinned to s1 and the switch sending s1", r.Samples[0])
	}
}

func TestBackendNamesAreCapped(t *testing.T) {
	const extra = 100
	s := NewSummary(testOptions())
	for i := range maxInterned + extra {
		ev := probe.Event{Session: i, Status: 200, Backend: fmt.Sprintf("req-%05d", i)}
		s.Add(&ev)
	}
	r := s.Close(testRun())
	if len(r.Backends) != maxInterned+1 {
		t.Errorf("%d backends, want %d names and other", len(r.Backends), maxInterned)
	}
	if got := r.Backends["other"]; got.Requests != extra || got.Sessions != extra {
		t.Errorf("other = %+v, want the %d names beyond the cap", got, extra)
	}
	if _, ok := r.Backends[fmt.Sprintf("req-%05d", maxInterned-1)]; !ok {
		t.Errorf("the last name within the cap is missing")
	}
}

func TestTokenNameIsLearned(t *testing.T) {
	r := feed(NewSummary(testOptions()), sticky(1, "s1", 2)).Close(Run{Token: "auto"})
	if r.Run.TokenName != "SERVERID" {
		t.Errorf("token name = %q, want the one the events carried", r.Run.TokenName)
	}
	r = feed(NewSummary(testOptions()), sticky(1, "s1", 2)).Close(Run{Token: "cookie:JSESSIONID", TokenName: "JSESSIONID"})
	if r.Run.TokenName != "JSESSIONID" {
		t.Errorf("token name = %q, want the given one kept", r.Run.TokenName)
	}
}
