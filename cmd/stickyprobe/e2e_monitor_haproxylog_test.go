package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The monitor follows the lab HAProxy's own log while it probes: the
// probe's requests appear in stickyprobe_haproxy_requests_total with the
// statuses HAProxy gave them, next to the probe's series.
func TestMonitorHAProxyLog(t *testing.T) {
	h := startLB(t, preset(t, "textbook"))
	addr := freeAddr(t)
	args := append([]string{"--every", "300ms", "--jitter", "0", "--rate", "0", "--sessions", "4", "--requests", "3", "--control", "0", "--listen", addr,
		"--haproxy-log", h.RequestLog()}, hostArgs(h)...)
	mon := startMonitor(t, args...)
	eventually(t, 20*time.Second, "counting HAProxy's log", func() (bool, string) {
		f, err := tryScrape(addr)
		if err != nil {
			return false, err.Error()
		}
		kept, _ := f.sum("stickyprobe_haproxy_requests_total", "backend=be_app", "client_cookie=V", "server_cookie=N")
		first, _ := f.sum("stickyprobe_haproxy_requests_total", "backend=be_app", "client_cookie=N", "server_cookie=I")
		reqs, _ := f.sum("stickyprobe_haproxy_log_lines_total", "kind=request")
		probe, _ := f.sum("stickyprobe_requests_total")
		return kept >= 8 && first >= 4 && reqs >= kept+first && probe > 0,
			fmt.Sprintf("V/N %v, N/I %v, request lines %v, probe requests %v", kept, first, reqs, probe)
	})
	if !strings.Contains(mon.stderr.String(), "following HAProxy's log") {
		t.Errorf("no log line about following:\n%s", mon.stderr)
	}
}

func TestMonitorHAProxyLogFormatNeedsLog(t *testing.T) {
	t.Parallel()
	code, _, errOut := runCLI(t, "monitor", "--haproxy-log-format", "%ci %tsc", "http://127.0.0.1:1/")
	if code != exitUsage || !strings.Contains(errOut, "--haproxy-log-format") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}
