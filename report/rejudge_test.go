package report

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// The same saved failover judged again: failover-stay passes it, strict
// fails it, and the report names what changed.
func TestRejudgeSavedEvents(t *testing.T) {
	opts := testOptions()
	opts.MinStickiness, opts.MaxErrorRate, opts.OnBackendLoss, opts.MinBackends = 1, 0, LossFailoverStay, -1
	var file bytes.Buffer
	enc, err := NewEventEncoder(&file, EventsHeader{Sessions: 12, Control: 6, Options: opts, Run: testRun()})
	if err != nil {
		t.Fatal(err)
	}
	evs := failover(6, -1, false).events()
	for i := range evs {
		if err := enc.Encode(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(testRun()); err != nil {
		t.Fatal(err)
	}
	open := func() *Replay {
		rp, err := NewReplay(Source{Name: "events.jsonl", Open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(file.Bytes())), nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		return rp
	}

	live, _, err := open().Report()
	if err != nil || live.Verdict != Pass || live.Rejudged != nil {
		t.Fatalf("as saved: %v, verdict %s, rejudged %v; want pass, nothing re-judged", err, live.Verdict, live.Rejudged)
	}

	rp := open()
	strict := rp.Options()
	strict.OnBackendLoss, strict.MaxErrorRate = LossStrict, 0.05
	rp.Rejudge(strict)
	r, _, err := rp.Report()
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != Fail || r.Summary.Broken != 4 || r.Thresholds.OnBackendLoss != LossStrict || r.Thresholds.MaxErrorRate != 0.05 {
		t.Fatalf("strict: verdict %s, broken %d, thresholds %+v; want fail, 4 broken", r.Verdict, r.Summary.Broken, r.Thresholds)
	}
	want := []ThresholdChange{{"--on-backend-loss", "failover-stay", "strict"}, {"--max-error-rate", "0", "0.05"}}
	if len(r.Rejudged) != 2 || r.Rejudged[0] != want[0] || r.Rejudged[1] != want[1] {
		t.Errorf("rejudged %+v, want %+v", r.Rejudged, want)
	}
	var table bytes.Buffer
	if err := Table(&table, r); err != nil {
		t.Fatal(err)
	}
	if flat := strings.Join(strings.Fields(table.String()), " "); !strings.Contains(flat, "--on-backend-loss strict (live: failover-stay), --max-error-rate 0.05 (live: 0)") {
		t.Errorf("the table does not say the thresholds changed:\n%s", table.String())
	}

	rp = open()
	rp.Rejudge(rp.Options())
	if same, _, _ := rp.Report(); same.Verdict != Pass || len(same.Rejudged) != 0 || len(same.Reasons) != len(live.Reasons) {
		t.Errorf("re-judged with the live thresholds: verdict %s, rejudged %v; want the live report", same.Verdict, same.Rejudged)
	}
}
