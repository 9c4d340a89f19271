package main

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// sameSiteNone is HAProxy's textbook cookie with SameSite=None and no
// secure: what current Chrome and Firefox drop, so no browser user is
// pinned, while an RFC 6265 client keeps it.
var sameSiteNone = lab.HAProxyConfig{Balance: "roundrobin", Cookie: `SERVERID insert indirect nocache attr "SameSite=None"`, ServerCookies: true}

// TestSameSiteNoneWithoutSecure: against real HAProxy, the browser jar
// (the default) refuses the cookie and the run fails with token-refused
// (samesite-none-insecure); --jar rfc6265 keeps it and the same config
// passes.
func TestSameSiteNoneWithoutSecure(t *testing.T) {
	h := startLB(t, sameSiteNone)
	args := append([]string{"--sessions", "12", "--requests", "4"}, hostArgs(h)...)

	// What HAProxy 2.6 sends, as measured: the attribute after path, no
	// Secure.
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(h.Port()) + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Values("Set-Cookie"); len(got) != 1 || !regexp.MustCompile(`^SERVERID=s[123]; path=/; SameSite=None$`).MatchString(got[0]) {
		t.Fatalf("HAProxy set %q, want one SERVERID=sN; path=/; SameSite=None", got)
	}

	browser := probeRun(t, args...)
	rep := browser.mustReport(t)
	if browser.code != exitFail || rep.Verdict != report.Fail {
		t.Fatalf("--jar browser: exit %d, verdict %s, want 1/fail; reasons %q", browser.code, rep.Verdict, rep.Reasons)
	}
	if got := rep.Causes[report.CauseTokenRefused]; got == 0 || got != rep.Summary.Broken {
		t.Errorf("causes %v: want every broken session token-refused", rep.Causes)
	}
	if rep.Refusals[probe.RefusedSameSiteNone] == 0 {
		t.Errorf("refusals %v, want samesite-none-insecure", rep.Refusals)
	}
	if !strings.Contains(rep.Hints[report.CauseTokenRefused], "SameSite=None without Secure") {
		t.Errorf("hint %q does not name SameSite=None", rep.Hints[report.CauseTokenRefused])
	}
	for _, ev := range browser.events {
		if ev.TokenSet != "" && ev.TokenRefused != probe.RefusedSameSiteNone && !ev.Control {
			t.Fatalf("a set token was not refused: %+v", ev)
		}
		if ev.TokenSent != "" {
			t.Fatalf("the browser jar sent the refused token: %+v", ev)
		}
	}

	rfc := probeRun(t, append([]string{"--jar", "rfc6265"}, args...)...)
	rep = rfc.mustReport(t)
	if rfc.code != exitPass || rep.Verdict != report.Pass || rep.Summary.Sticky != 12 {
		t.Fatalf("--jar rfc6265: exit %d, verdict %s, sticky %d; want 0/pass, 12; reasons %q", rfc.code, rep.Verdict, rep.Summary.Sticky, rep.Reasons)
	}
	if len(rep.Refusals) != 0 {
		t.Errorf("--jar rfc6265 refused %v", rep.Refusals)
	}
}

func TestJarFlagRefusesUnknownMode(t *testing.T) {
	res := probeRun(t, "--jar", "chrome", "http://127.0.0.1:1/")
	if res.code != exitUsage || !strings.Contains(res.stderr, "--jar") {
		t.Errorf("exit %d, stderr %q: want 2 naming --jar", res.code, res.stderr)
	}
}

// TestMonitorJarFlag: monitor's runners get --jar too: one cycle against
// the SameSite=None config fails under the browser jar and passes under
// rfc6265.
func TestMonitorJarFlag(t *testing.T) {
	h := startLB(t, sameSiteNone)
	for jar, want := range map[string]string{"browser": "verdict=fail", "rfc6265": "verdict=pass"} {
		mon := startMonitor(t, append(append(append([]string{}, fastCycles...), "--cycles", "1", "--jar", jar), hostArgs(h)...)...)
		mon.wait(t, 30*time.Second)
		if log := mon.stderr.String(); !strings.Contains(log, want) {
			t.Errorf("--jar %s: the cycle's log lacks %q:\n%s", jar, want, log)
		}
	}
}
