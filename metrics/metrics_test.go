package metrics

import (
	"flag"
	"math"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

var update = flag.Bool("update", false, "rewrite testdata/metric-names.golden")

const goldenNames = "testdata/metric-names.golden"

// fullCycle produces every family: two frontends, sticky, broken and
// failed requests, a control group.
func fullCycle(t *testing.T, m *Metrics) *report.Report {
	t.Helper()
	sessions := []session{
		{id: 0, frontend: feA, sticky: true, backends: []string{"s1", "s1", "s1"}},
		{id: 1, frontend: feB, sticky: true, backends: []string{"s2", "s2", "s2"}},
		{id: 2, frontend: feA, backends: []string{"s1", "s2", "s3"}},
		{id: 3, frontend: feB, backends: []string{"s3", "", "s1"}},
	}
	return runCycle(t, m, cookieOpts, append(sessions, controls(feA, 4)...)...)
}

// describe is one golden line per family: name, type, sorted label names.
func describe(mf *dto.MetricFamily) string {
	labels := make(map[string]bool)
	for _, mt := range mf.GetMetric() {
		for _, lp := range mt.GetLabel() {
			labels[lp.GetName()] = true
		}
	}
	var names []string
	for l := range labels {
		names = append(names, l)
	}
	sort.Strings(names)
	return mf.GetName() + " " + strings.ToLower(mf.GetType().String()) + " " + strings.Join(names, ",")
}

func TestMetricNamesGolden(t *testing.T) {
	m := New(Options{Scenario: "smoke"})
	fullCycle(t, m)
	fullHAProxyLog(t, m) // monitor --haproxy-log's series (haproxylog_test.go)
	var lines []string
	for _, mf := range gather(t, m) {
		lines = append(lines, describe(mf))
	}
	sort.Strings(lines)
	got := strings.Join(lines, "\n") + "\n"
	if *update {
		if err := os.WriteFile(goldenNames, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenNames)
	if err != nil {
		t.Fatalf("%v (run go test ./metrics -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("metric names, types or labels changed; dashboards and alerts depend on them.\n got:\n%s\nwant:\n%s\n"+
			"If the change is deliberate, run go test ./metrics -update and update the README's metrics table.", got, want)
	}
}

var (
	validName  = regexp.MustCompile(`^stickyprobe_[a-z][a-z0-9_]*$`)
	validLabel = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

func TestMetricNamesValid(t *testing.T) {
	m := New(Options{})
	fullCycle(t, m)
	problems, err := testutil.GatherAndLint(m.Gatherer())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	for name, mf := range gather(t, m) {
		if !validName.MatchString(name) {
			t.Errorf("metric %q: want the stickyprobe_ prefix and lower snake case", name)
		}
		if mf.GetHelp() == "" {
			t.Errorf("metric %s has no help text", name)
		}
		for _, mt := range mf.GetMetric() {
			for _, lp := range mt.GetLabel() {
				if !validLabel.MatchString(lp.GetName()) {
					t.Errorf("metric %s: label %q is not lower snake case", name, lp.GetName())
				}
			}
		}
	}
}

// TestMetricNamesDocumented keeps the README's metrics table in step with
// what the code exports.
func TestMetricNamesDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(goldenNames)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(golden)), "\n") {
		name := strings.Fields(line)[0]
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README.md does not document `%s`", name)
		}
	}
}

func TestCycleCounts(t *testing.T) {
	m := New(Options{Scenario: "smoke"})
	rep := fullCycle(t, m)
	if rep.Verdict != report.Fail {
		t.Fatalf("verdict %s, want fail (sessions 2 and 3 broke)", rep.Verdict)
	}
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"stickyprobe_requests_total", []string{"frontend=" + feA}, 3*2 + 9},
		{"stickyprobe_requests_total", []string{"frontend=" + feB}, 6},
		{"stickyprobe_request_errors_total", []string{"frontend=" + feB, "kind=reset"}, 1},
		{"stickyprobe_request_errors_total", []string{"frontend=" + feA, "kind=reset"}, 0},
		{"stickyprobe_request_duration_seconds", []string{"frontend=" + feB}, 5},
		{"stickyprobe_sessions_total", []string{"frontend=" + feA, "result=sticky"}, 1},
		{"stickyprobe_sessions_total", []string{"frontend=" + feA, "result=broken"}, 1},
		{"stickyprobe_broken_sessions_total", []string{"frontend=" + feA, "cause=no-token"}, 1},
		{"stickyprobe_broken_sessions_total", []string{"frontend=" + feB, "cause=no-token"}, 1},
		{"stickyprobe_broken_sessions_total", []string{"frontend=" + feB, "cause=token-refused"}, 0},
		{"stickyprobe_switches_total", []string{"frontend=" + feA}, 2},
		{"stickyprobe_backend_requests_total", []string{"frontend=" + feA, "backend=s1"}, 3 + 1 + 3},
		{"stickyprobe_stickiness_ratio", []string{"frontend=" + feA}, 0.5},
		{"stickyprobe_backends_seen", []string{"frontend=" + feA}, 3},
		{"stickyprobe_backend_max_share_ratio", []string{"frontend=" + feA}, 1},
		{"stickyprobe_cycles_total", []string{"verdict=fail", "scenario=smoke"}, 1},
		{"stickyprobe_cycles_total", []string{"verdict=pass"}, 0},
		{"stickyprobe_verdict", []string{"verdict=fail"}, 1},
		{"stickyprobe_verdict", []string{"verdict=pass"}, 0},
		{"stickyprobe_control_sensitivity_ratio", nil, 1},
		{"stickyprobe_last_cycle_duration_seconds", nil, 1.5},
		{"stickyprobe_last_cycle_timestamp_seconds", nil, 1_700_000_000},
		{"stickyprobe_last_success_timestamp_seconds", nil, 0},
	}
	for _, c := range checks {
		if got := value(t, m, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}

	// A second, sticky cycle adds to the counters and replaces the gauges.
	rep = runCycle(t, m, cookieOpts, append([]session{
		{id: 0, frontend: feA, sticky: true, backends: []string{"s2", "s2"}},
	}, controls(feA, 1)...)...)
	if rep.Verdict != report.Pass {
		t.Fatalf("second cycle: verdict %s, want pass (%v)", rep.Verdict, rep.Reasons)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"stickyprobe_sessions_total", []string{"frontend=" + feA, "result=sticky"}, 2},
		{"stickyprobe_broken_sessions_total", []string{"frontend=" + feA, "cause=no-token"}, 1},
		{"stickyprobe_stickiness_ratio", []string{"frontend=" + feA}, 1},
		{"stickyprobe_cycles_total", []string{"verdict=pass"}, 1},
		{"stickyprobe_cycles_total", []string{"verdict=fail"}, 1},
		{"stickyprobe_verdict", []string{"verdict=fail"}, 0},
		{"stickyprobe_verdict", []string{"verdict=pass"}, 1},
		{"stickyprobe_last_success_timestamp_seconds", nil, 1_700_000_000},
	} {
		if got := value(t, m, c.name, c.labels...); got != c.want {
			t.Errorf("after cycle 2: %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestGaugesOnlyAfterAJudgedCycle(t *testing.T) {
	m := New(Options{})
	c := m.NewCycle(cookieOpts)
	for _, ev := range (session{id: 0, frontend: feA, backends: []string{"s1", "s2"}}).events() {
		c.Add(&ev)
	}
	fams := gather(t, m)
	// Not closed: a cycle cut short by a shutdown counts its requests but
	// judges nothing.
	for _, name := range []string{"stickyprobe_stickiness_ratio", "stickyprobe_backends_seen", "stickyprobe_backend_max_share_ratio"} {
		if fams[name] != nil {
			t.Errorf("%s exported before any cycle was judged: a 0 would fire alerts", name)
		}
	}
	if got := value(t, m, "stickyprobe_requests_total", "frontend="+feA); got != 2 {
		t.Errorf("requests %v, want 2", got)
	}
	if got := value(t, m, "stickyprobe_cycles_total", "verdict=fail"); got != 0 {
		t.Errorf("an unclosed cycle was counted: %v", got)
	}
	if got := value(t, m, "stickyprobe_control_sensitivity_ratio"); !math.IsNaN(got) {
		t.Errorf("sensitivity before any cycle = %v, want NaN", got)
	}
}

func TestStickinessNaNWhenNotJudged(t *testing.T) {
	spread := cookieOpts
	spread.ExpectSpread, spread.CookieToken = true, false
	m := New(Options{})
	runCycle(t, m, spread, session{id: 0, frontend: feA, backends: []string{"s1", "s2", "s3"}})
	if got := value(t, m, "stickyprobe_stickiness_ratio", "frontend="+feA); !math.IsNaN(got) {
		t.Errorf("--token none: stickiness %v, want NaN (spread is expected, not stickiness)", got)
	}
	m = New(Options{})
	runCycle(t, m, cookieOpts, session{id: 0, frontend: feA, backends: []string{"s1"}})
	if got := value(t, m, "stickyprobe_stickiness_ratio", "frontend="+feA); !math.IsNaN(got) {
		t.Errorf("nothing judged: stickiness %v, want NaN", got)
	}
}

func TestCarryAcrossCycles(t *testing.T) {
	m := New(Options{})
	c := m.NewCycle(cookieOpts)
	c.CarryPin(0, feA, "s1")
	evs := (session{id: 0, frontend: feA, sticky: true, backends: []string{"s2", "s2"}}).events()
	evs[0].TokenSent, evs[0].TokenHeld = "t-s1", true // sent s1's cookie, got s2 and a new cookie
	sum := report.NewSummary(cookieOpts)
	sum.CarryPin(0, "s1")
	for i := range evs {
		c.Add(&evs[i])
		sum.Add(&evs[i])
	}
	c.Close(sum.Close(report.Run{}), time.Now())
	if got := value(t, m, "stickyprobe_broken_sessions_total", "frontend="+feA, "cause=token-reassigned"); got != 1 {
		t.Errorf("token-reassigned = %v, want 1: the switch between cycles was missed", got)
	}
}

// A session that rotates over two nodes is judged whole, under the node of
// its first request: node b not knowing node a's cookie is a
// frontend-changed session, which two half-sessions would never show.
func TestRotatingSessionsJudgedWhole(t *testing.T) {
	m := New(Options{Scenario: "rotate"})
	c := m.NewCycle(cookieOpts)
	sum := report.NewSummary(cookieOpts)
	fronts := []string{feA, feB}
	for seq, b := range []string{"s1", "s2", "s1", "s3"} {
		ev := probe.Event{Session: 0, Seq: seq, Frontend: fronts[seq%2], Backend: b, Status: 200,
			Latency: time.Millisecond, TokenName: "SERVERID", TokenSet: "t-" + b}
		if seq > 0 {
			ev.TokenSent, ev.TokenHeld = "t-"+[]string{"s1", "s2", "s1", "s3"}[seq-1], true
		}
		c.Add(&ev)
		sum.Add(&ev)
	}
	c.Close(sum.Close(report.Run{}), time.Now())
	if got := value(t, m, "stickyprobe_broken_sessions_total", "frontend="+feA, "cause=frontend-changed"); got != 1 {
		t.Errorf("broken_sessions_total{a, frontend-changed} = %v, want 1", got)
	}
	if got := value(t, m, "stickyprobe_sessions_total", "frontend="+feB, "result=broken"); got != 0 {
		t.Errorf("sessions_total{b, broken} = %v, want 0: the session is a's", got)
	}
	if got := value(t, m, "stickyprobe_requests_total", "frontend="+feB); got != 2 {
		t.Errorf("requests_total{b} = %v, want its 2 requests", got)
	}
}

// Requests the probe cut at a cycle's end are counted apart: not errors.
func TestCutRequestsCounted(t *testing.T) {
	m := New(Options{Scenario: "cut"})
	for _, cut := range []int64{3, 2} {
		c := m.NewCycle(cookieOpts)
		sum := report.NewSummary(cookieOpts)
		c.Close(sum.Close(report.Run{Cut: cut}), time.Now())
	}
	if got := value(t, m, "stickyprobe_cut_requests_total"); got != 5 {
		t.Errorf("cut_requests_total = %v, want 5 over two cycles", got)
	}
}
