package labrun

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/report"
)

func TestSelect(t *testing.T) {
	got, err := Select([]string{"source-nat", "textbook"}, []string{"haproxy"})
	if err != nil || len(got) != 2 || got[0].Name != "source-nat" || got[1].Name != "textbook" {
		t.Fatalf("Select = %v, %v; want source-nat then textbook", got, err)
	}
	if _, err := Select(nil, []string{"iis"}); err == nil || !strings.Contains(err.Error(), `--lb "iis"`) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := Select([]string{"caddy-cookie"}, []string{"nginx"}); err == nil || !strings.Contains(err.Error(), `--config "caddy-cookie"`) {
		t.Errorf("a row of another kind: %v", err)
	}
	for _, lc := range Cases() {
		if lc.Expect == "" {
			t.Errorf("row %s has no expected verdict", lc.Name)
		}
	}
}

// TestRunAgainstRealHAProxy runs two rows against a real haproxy: each
// gets the verdict it should, and the table shows both with the line
// check-config points at.
func TestRunAgainstRealHAProxy(t *testing.T) {
	cases, err := Select([]string{"textbook", "no-cookie"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := NeedLBs(cases); err != nil {
		t.Fatal(err) // a missing haproxy is a failure, never a skip
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := Run(ctx, &out, cases, Options{Sessions: 10, Requests: 3, Details: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Unexpected) > 0 || len(res.Rows) != 2 {
		t.Fatalf("rows %d, unexpected %v\n%s", len(res.Rows), res.Unexpected, out.String())
	}
	if res.Rows[0].Report.Verdict != report.Pass || res.Rows[1].Report.Verdict != report.Fail {
		t.Errorf("verdicts %s, %s; want pass, fail", res.Rows[0].Report.Verdict, res.Rows[1].Report.Verdict)
	}
	if !strings.Contains(res.Rows[1].ConfigLine, "no-persistence") || !strings.Contains(out.String(), "=== textbook:") {
		t.Errorf("config line %q; output:\n%s", res.Rows[1].ConfigLine, out.String())
	}
}
