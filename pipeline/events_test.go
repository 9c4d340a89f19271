package pipeline

import (
	"context"
	"net/url"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

// The events file is closed after the report is annotated, so its
// trailer keeps what the annotations added (the LB's state, the config
// join) and `stickyprobe report` puts it back.
func TestEventsTrailerKeepsAnnotations(t *testing.T) {
	b, err := lab.StartBackend("server1", lab.BackendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	spec := scenarios.Default()
	spec.Sessions, spec.Requests, spec.Rate = 3, 2, 0
	u, _ := url.Parse("http://" + b.Addr() + "/")
	spec.URLs = []*url.URL{u}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	st := &report.LBState{Source: "haproxy runtime api", Socket: "/s", Polls: 2,
		Outages: []report.LBOutage{{Backend: "be", Server: "server9", State: "down", Down: time.Now().UTC()}}}
	join := &report.ConfigJoin{Files: []string{"h.cfg"}, Findings: []report.JoinFinding{{Cause: report.CauseNoToken, Failing: true,
		ConfigFinding: report.ConfigFinding{ID: "x", Where: "h.cfg:3", Backend: "be", Problem: "p"}}}}
	annotate := func(rep *report.Report) { rep.LBState = st; join.Apply(rep) }
	res, err := Run(context.Background(), spec, Options{Outputs: Outputs{Events: path}, Annotate: []func(*report.Report){annotate}})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := report.OpenReplay(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := rp.Report()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.LBState, st) || !reflect.DeepEqual(rep.HAProxyConfig, res.Report.HAProxyConfig) || rep.HAProxyConfig == nil {
		t.Errorf("replayed lb %+v config %+v; live config %+v", rep.LBState, rep.HAProxyConfig, res.Report.HAProxyConfig)
	}
}
