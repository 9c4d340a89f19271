package haplog

import (
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/redact"
)

// Two nodes logging to one syslog: the tables split them by node, so the
// one that does not know the cookies stands out.
func TestTextByNode(t *testing.T) {
	t.Parallel()
	log := strings.Join([]string{
		"Dec  3 08:34:23 lb1 haproxy[1]: " + `127.0.0.1:1 [03/Dec/2026:08:34:41.311] fe be/s1 0/0/0/0/0 200 1 - - --VN 1/1/0/0/0 0/0 "GET / HTTP/1.1"`,
		"Dec  3 08:34:23 lb2 haproxy[1]: " + `127.0.0.1:2 [03/Dec/2026:08:34:41.312] fe be/s1 0/0/0/0/0 200 1 - - --II 1/1/0/0/0 0/0 "GET / HTTP/1.1"`,
		"Dec  3 08:34:23 lb2 haproxy[1]: " + `127.0.0.1:3 [03/Dec/2026:08:34:41.313] fe be/s2 0/0/0/0/0 200 1 - - --II 1/1/0/0/0 0/0 "GET / HTTP/1.1"`,
		"Dec  3 08:34:24 lb2 haproxy[1]: oops token=hunter2",
	}, "\n")
	rd := &Reader{Parser: NewParser(nil, time.UTC), Redactor: redact.New()}
	st := NewStats(time.Minute)
	if err := rd.Read("syslog", strings.NewReader(log), st.Add); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	s := Summary{Files: 1, Reader: rd, Stats: st, Judged: Judge(st, Thresholds{MinStickiness: 0.99, MaxErrorRate: 0.01}), Th: Thresholds{MinStickiness: 0.99}}
	if err := Text(&b, s); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"NODE", "lb1", "lb2", "Verdict: FAIL", "1 unreadable", "token-ignored: cookie invalid", "stickiness 33.3%"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("a secret in the output:\n%s", out)
	}
	servers := st.Servers()
	if len(servers) != 3 || servers[0].Node != "lb1" || servers[1].Node != "lb2" || servers[1].ByClient('I') != 1 {
		t.Errorf("servers %+v", servers)
	}
}
