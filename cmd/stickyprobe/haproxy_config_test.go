package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stickyprobe/stickyprobe/hacheck"
	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
)

// TestConfigJoinIsHacheckJoin: the join a run keeps (and its events
// trailer stores) ties causes to findings exactly as hacheck's own
// Annotate does, for every lab mistake's config checked by the real
// haproxy -c too, whichever causes a report has.
func TestConfigJoinIsHacheckJoin(t *testing.T) {
	if _, err := lab.FindHAProxy(); err != nil {
		t.Fatal(err)
	}
	backends := startBackendsT(t, lab.BackendOptions{})
	u, _ := url.Parse("http://" + labHost + ":18080/")
	dir := t.TempDir()
	joined := 0
	for _, m := range lab.Mistakes() {
		if m.Config.Peers {
			m.Config.PeersPort = 18081
		}
		text, err := m.Config.Render(18080, backends)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		path := filepath.Join(dir, m.Name+".cfg")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := hacheck.Prepare(context.Background(), []string{path}, u, hacheck.FileOptions{Options: hacheck.Options{Sessions: 20}})
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		for _, causes := range []map[report.Cause]int{allCauses(), {report.CauseUnexplained: 2}, {}} {
			want, got := causeReport(causes), causeReport(causes)
			j.Annotate(want)
			configJoin(j).Apply(got)
			a, _ := json.Marshal(want)
			b, _ := json.Marshal(got)
			if !bytes.Equal(a, b) {
				t.Errorf("%s, causes %v:\nhacheck: %s\nkept:    %s", m.Name, causes, a, b)
			}
			if len(causes) > 2 && len(got.HAProxyConfig.Findings) > 0 {
				joined++
			}
		}
	}
	if joined < len(lab.Mistakes())/2 {
		t.Errorf("only %d of %d mistakes had a finding tied to a cause", joined, len(lab.Mistakes()))
	}
}

func allCauses() map[report.Cause]int {
	m := map[report.Cause]int{}
	for _, c := range report.Causes {
		m[c] = 1
	}
	return m
}

// causeReport is a report with these causes and their hints, as the
// summary leaves it.
func causeReport(causes map[report.Cause]int) *report.Report {
	r := &report.Report{Causes: map[report.Cause]int{}, Hints: map[report.Cause]string{}}
	for c, n := range causes {
		r.Causes[c], r.Hints[c] = n, c.Hint()
	}
	return r
}
