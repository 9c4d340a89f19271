package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stickyprobe/stickyprobe/haplog"
)

func TestHAProxyLogCounts(t *testing.T) {
	t.Parallel()
	m := New(Options{Scenario: "s", MaxBackends: 2})
	h := m.HAProxyLog()
	rd := &haplog.Reader{Parser: haplog.NewParser(nil, time.UTC), Observe: h.Line, OnChange: h.Change}
	log := strings.Join([]string{
		`127.0.0.1:1 [03/Dec/2026:08:34:41.311] fe be/s1 0/0/0/0/0 200 1 - - --VN 1/1/0/0/0 0/0 "GET / HTTP/1.1"`,
		`127.0.0.1:2 [03/Dec/2026:08:34:41.312] fe be/s1 0/0/0/0/0 200 1 - - --VN 1/1/0/0/0 0/0 "GET / HTTP/1.1"`,
		`127.0.0.1:3 [03/Dec/2026:08:34:41.313] fe be/s2 0/0/0/0/0 503 1 - - SCDI 1/1/0/0/+2 0/0 "GET / HTTP/1.1"`,
		// A third server name is over the cap of 2.
		`127.0.0.1:4 [03/Dec/2026:08:34:41.314] fe be/s3 0/0/0/0/0 200 1 - - --XZ 1/1/0/0/0 0/0 "GET / HTTP/1.1"`,
		`Server be/s1 is DOWN, reason: Layer4 connection problem`,
		`garbage`,
	}, "\n")
	if err := rd.Read("t", strings.NewReader(log), h.Add); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		got  float64
		want float64
		what string
	}{
		{testutil.ToFloat64(h.requests.WithLabelValues("be", "s1", "V", "N")), 2, "s1 V N"},
		{testutil.ToFloat64(h.requests.WithLabelValues("be", "s2", "D", "I")), 1, "s2 D I"},
		{testutil.ToFloat64(h.requests.WithLabelValues("be", Other, Other, Other)), 1, "over the cap, unknown statuses"},
		{testutil.ToFloat64(h.errors.WithLabelValues("be", "s2")), 1, "5xx"},
		{testutil.ToFloat64(h.redispatched.WithLabelValues("be", "s2")), 1, "redispatched"},
		{testutil.ToFloat64(h.lines.WithLabelValues("request")), 4, "request lines"},
		{testutil.ToFloat64(h.lines.WithLabelValues("message")), 1, "messages"},
		{testutil.ToFloat64(h.lines.WithLabelValues("unreadable")), 1, "unreadable"},
		{testutil.ToFloat64(h.changes.WithLabelValues("be", "s1", "DOWN")), 1, "DOWN"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
}

// fullHAProxyLog produces every family of HAProxyLog.
func fullHAProxyLog(t *testing.T, m *Metrics) {
	t.Helper()
	h := m.HAProxyLog()
	rd := &haplog.Reader{Parser: haplog.NewParser(nil, time.UTC), Observe: h.Line, OnChange: h.Change}
	log := `127.0.0.1:3 [03/Dec/2026:08:34:41.313] fe be/s2 0/0/0/0/0 503 1 - - SCDI 1/1/0/0/+2 0/0 "GET / HTTP/1.1"` + "\n" +
		"Server be/s1 is DOWN, reason: Layer4 connection problem\n"
	if err := rd.Read("t", strings.NewReader(log), h.Add); err != nil {
		t.Fatal(err)
	}
}
