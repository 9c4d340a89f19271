package report

import (
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/probe"
)

// A run cut before its sessions got two responses says it was cut; the
// same events from a run that was not cut point at --id.
func TestCutRunVerdict(t *testing.T) {
	var scripts []script
	for id := range 6 {
		scripts = append(scripts, script{id: id, steps: stepsOf(landed(lossServers[id%3]))})
	}
	for _, tc := range []struct {
		run  Run
		want string
	}{
		{Run{Truncated: true, Cut: 3}, "the run was cut (at --max-duration, or a monitor's --every)"},
		{Run{Interrupted: true}, "the run was cut (interrupted)"},
		{Run{}, "set --id"},
	} {
		r := feed(NewSummary(testOptions()), scripts...).Close(tc.run)
		if r.Verdict != Error || len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], tc.want) {
			t.Errorf("run %+v: verdict %s, reasons %q; want error saying %q", tc.run, r.Verdict, r.Reasons, tc.want)
		}
		if tc.run.Cut > 0 && (r.Summary.Errors != 0 || len(r.Errors) != 0) {
			t.Errorf("cut requests counted as errors: %+v %v", r.Summary, r.Errors)
		}
	}
}

func stepsOf(evs ...probe.Event) []probe.Event { return evs }
