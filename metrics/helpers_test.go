package metrics

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

const (
	feA = "http://a.example/"
	feB = "http://b.example/"
)

var cookieOpts = report.Options{MinStickiness: 1, CookieToken: true}

// session scripts one session's requests: the backend of each, "" for a
// failed request. Sticky sessions send the token from their second request
// on; others never get one (HAProxy without a cookie directive).
type session struct {
	id       int
	frontend string
	control  bool
	sticky   bool
	backends []string
}

func (s session) events() []probe.Event {
	var out []probe.Event
	for seq, b := range s.backends {
		ev := probe.Event{Session: s.id, Control: s.control, Seq: seq, Frontend: s.frontend,
			Backend: b, Status: 200, Latency: time.Duration(1+seq) * time.Millisecond, TokenName: "SERVERID"}
		if b == "" {
			ev.Status, ev.Error = 0, probe.ErrReset
		}
		if s.sticky && !s.control {
			if seq == 0 {
				ev.TokenSet = "t-" + b
			} else {
				ev.TokenSent, ev.TokenHeld = "t-"+s.backends[0], true
			}
		}
		out = append(out, ev)
	}
	return out
}

// runCycle feeds the sessions' events round by round into a Cycle and an
// overall summary, closes both and returns the overall report.
func runCycle(t *testing.T, m *Metrics, opts report.Options, sessions ...session) *report.Report {
	t.Helper()
	c := m.NewCycle(opts)
	sum := report.NewSummary(opts)
	evs := make([][]probe.Event, len(sessions))
	rounds := 0
	for i, s := range sessions {
		evs[i] = s.events()
		rounds = max(rounds, len(evs[i]))
	}
	for r := 0; r < rounds; r++ {
		for i := range evs {
			if r < len(evs[i]) {
				c.Add(&evs[i][r])
				sum.Add(&evs[i][r])
			}
		}
	}
	rep := sum.Close(report.Run{DurationS: 1.5})
	c.Close(rep, time.Unix(1_700_000_000, 0))
	return rep
}

// controls are three control sessions that move, so a sticky cycle passes.
func controls(frontend string, from int) []session {
	var out []session
	for i := range 3 {
		out = append(out, session{id: from + i, frontend: frontend, control: true, backends: []string{"s1", "s2", "s3"}})
	}
	return out
}

// gather returns the families of m's own registry by name.
func gather(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// value returns the value of the series of family name whose labels
// include want ("k=v" pairs), failing if there is not exactly one.
func value(t *testing.T, m *Metrics, name string, want ...string) float64 {
	t.Helper()
	mf := gather(t, m)[name]
	if mf == nil {
		t.Fatalf("no family %s", name)
	}
	var found []float64
	for _, mt := range mf.GetMetric() {
		if hasLabels(mt, want) {
			switch {
			case mt.Counter != nil:
				found = append(found, mt.Counter.GetValue())
			case mt.Gauge != nil:
				found = append(found, mt.Gauge.GetValue())
			case mt.Histogram != nil:
				found = append(found, float64(mt.Histogram.GetSampleCount()))
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s%v: %d series match, want 1", name, want, len(found))
	}
	return found[0]
}

func hasLabels(mt *dto.Metric, want []string) bool {
	have := make(map[string]string)
	for _, lp := range mt.GetLabel() {
		have[lp.GetName()] = lp.GetValue()
	}
	for _, kv := range want {
		k, v, _ := strings.Cut(kv, "=")
		if have[k] != v {
			return false
		}
	}
	return true
}

// labelValues returns the sorted distinct values of label in family name.
func labelValues(t *testing.T, m *Metrics, name, label string) []string {
	t.Helper()
	set := make(map[string]bool)
	if mf := gather(t, m)[name]; mf != nil {
		for _, mt := range mf.GetMetric() {
			for _, lp := range mt.GetLabel() {
				if lp.GetName() == label {
					set[lp.GetValue()] = true
				}
			}
		}
	}
	var out []string
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func backendName(i int) string { return fmt.Sprintf("pod-%04d", i) }
