package main

import (
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// These tests run the whole probe against a real haproxy on 127.0.0.1 and
// assert the verdict, the cause and the evidence behind it.

func TestTextbookConfigPasses(t *testing.T) {
	h := startLB(t, preset(t, "textbook"))
	res := probeRun(t, append([]string{"--sessions", "30", "--requests", "6"}, hostArgs(h)...)...)
	rep := res.mustReport(t)
	if res.code != exitPass || rep.Verdict != report.Pass {
		t.Fatalf("exit %d, verdict %s, want 0/pass; reasons %q", res.code, rep.Verdict, rep.Reasons)
	}
	if rep.Summary.Stickiness != 1 || rep.Summary.Sticky != 30 {
		t.Errorf("stickiness %v with %d sticky, want 1 and 30", rep.Summary.Stickiness, rep.Summary.Sticky)
	}
	if rep.Run.TokenName != "SERVERID" {
		t.Errorf("learned token %q, want SERVERID", rep.Run.TokenName)
	}
	for _, name := range []string{"server1", "server2", "server3"} {
		if rep.Backends[name].Sessions == 0 {
			t.Errorf("no session pinned to %s: sessions not spread (%v)", name, rep.Backends)
		}
	}
	if rep.Control.Switched == 0 {
		t.Errorf("control group never switched: the pass proves nothing (%+v)", rep.Control)
	}
	// From the second request on, every measured session sends the token.
	for _, ev := range res.events {
		if !ev.Control && ev.Seq > 0 && ev.TokenSent == "" {
			t.Fatalf("session %d request %d did not send the token: %+v", ev.Session, ev.Seq, ev)
		}
		if ev.Control && ev.TokenSent != "" {
			t.Fatalf("control session %d sent a token: %+v", ev.Session, ev)
		}
	}
}

func TestNoCookieDirectiveFailsWithNoToken(t *testing.T) {
	h := startLB(t, preset(t, "no-cookie"))
	res := probeRun(t, append([]string{"--sessions", "20", "--requests", "6"}, hostArgs(h)...)...)
	rep := res.mustReport(t)
	if res.code != exitFail || rep.Verdict != report.Fail {
		t.Fatalf("exit %d, verdict %s, want 1/fail", res.code, rep.Verdict)
	}
	if got := rep.Causes[report.CauseNoToken]; got != rep.Summary.Broken || got == 0 {
		t.Errorf("no-token sessions %d, broken %d: want every broken session explained as no-token (%v)", got, rep.Summary.Broken, rep.Causes)
	}
	if !strings.Contains(rep.Hints[report.CauseNoToken], "cookie SERVERID insert") {
		t.Errorf("hint does not name the cookie directive: %q", rep.Hints[report.CauseNoToken])
	}
}

// HAProxy 2.6 with a `cookie` directive but no `cookie <value>` on the
// server lines answers every response with an expired, empty SERVERID:
// the token is deleted, never set. The probe must say so, not "set".
func TestServerLinesWithoutCookieValueDeleteTheToken(t *testing.T) {
	h := startLB(t, preset(t, "no-server-cookie"))
	res := probeRun(t, append([]string{"--sessions", "15", "--requests", "5"}, hostArgs(h)...)...)
	rep := res.mustReport(t)
	if rep.Verdict != report.Fail || rep.Causes[report.CauseNoToken] != rep.Summary.Broken {
		t.Fatalf("verdict %s causes %v, want fail with every broken session no-token", rep.Verdict, rep.Causes)
	}
	if rep.Run.TokenName != "SERVERID" {
		t.Errorf("token name %q, want SERVERID learned from the deleting Set-Cookie", rep.Run.TokenName)
	}
	for _, ev := range res.events {
		if ev.TokenSet != "" || !ev.TokenDeleted {
			t.Fatalf("want every response to delete the token and none to set it, got %+v", ev)
		}
	}
}

// Plain round robin with a session count that is a multiple of the server
// count, one request at a time: in a fixed order every session would land
// on "its" server each round. The shuffled order must still catch it.
func TestRoundRobinWithSessionsMultipleOfServersStillFails(t *testing.T) {
	h := startLB(t, preset(t, "no-cookie"))
	res := probeRun(t, append([]string{"--sessions", "30", "--control", "3", "--requests", "6", "--concurrency", "1"}, hostArgs(h)...)...)
	rep := res.mustReport(t)
	if rep.Verdict != report.Fail {
		t.Fatalf("verdict %s, want fail: a non-sticky LB looked sticky (%q)", rep.Verdict, rep.Reasons)
	}
	if rep.Summary.Broken < 25 {
		t.Errorf("only %d of 30 sessions broke against plain round robin", rep.Summary.Broken)
	}
}

func TestSingleBackendIsInconclusive(t *testing.T) {
	h := startLB(t, preset(t, "single-backend"))
	res := probeRun(t, append([]string{"--sessions", "12", "--requests", "4"}, hostArgs(h)...)...)
	rep := res.mustReport(t)
	if res.code != exitInconclusive || rep.Verdict != report.Inconclusive {
		t.Fatalf("exit %d verdict %s, want 4/inconclusive; reasons %q", res.code, rep.Verdict, rep.Reasons)
	}
	if rep.Control.Sessions < 3 || rep.Control.Switched != 0 {
		t.Errorf("control %+v: want at least 3 control sessions, none switched", rep.Control)
	}
}

func TestCookieDomainMismatchIsRefused(t *testing.T) {
	h := startLB(t, preset(t, "cookie-domain"))
	res := probeRun(t, append([]string{"--sessions", "15", "--requests", "5"}, hostArgs(h)...)...)
	rep := res.mustReport(t)
	if rep.Verdict != report.Fail || rep.Causes[report.CauseTokenRefused] != rep.Summary.Broken {
		t.Fatalf("verdict %s causes %v, want fail, all token-refused", rep.Verdict, rep.Causes)
	}
	if rep.Refusals[probe.RefusedDomain] != rep.Summary.Broken {
		t.Errorf("refusals %v, want every one for domain", rep.Refusals)
	}
}

func TestSecureCookieOverHTTPIsRefused(t *testing.T) {
	h := startLB(t, preset(t, "cookie-secure"))
	res := probeRun(t, append([]string{"--sessions", "15", "--requests", "5"}, hostArgs(h)...)...)
	rep := res.mustReport(t)
	if rep.Verdict != report.Fail || rep.Refusals[probe.RefusedSecure] != rep.Summary.Broken || rep.Summary.Broken == 0 {
		t.Fatalf("verdict %s causes %v refusals %v, want fail, all secure-over-http", rep.Verdict, rep.Causes, rep.Refusals)
	}

	// The same LB probed on 127.0.0.1 looks sticky, because browsers and
	// Go's jar treat loopback as a secure origin. This is why the test
	// above goes through a host name: on 127.0.0.1 it would pass for the
	// wrong reason.
	res = probeRun(t, "--sessions", "15", "--requests", "5", h.URL())
	if rep := res.mustReport(t); rep.Verdict != report.Pass {
		t.Errorf("on 127.0.0.1 verdict %s, want pass (loopback is a secure origin)", rep.Verdict)
	}
}

// Why --conn fresh is the default. HAProxy 2.6 in mode http balances each
// request of a keep-alive connection on its own, so reuse hides nothing
// there; but an LB that balances connections (mode tcp here, and many L4
// balancers) keeps a reused connection on one server. With --conn session
// a non-sticky LB then looks perfectly sticky, and only the control group
// stops the run from passing.
func TestConnectionReuseHidesMissingPersistence(t *testing.T) {
	h := startLB(t, lab.HAProxyConfig{Mode: "tcp", Balance: "roundrobin"})
	base := append([]string{"--sessions", "15", "--requests", "5"}, hostArgs(h)...)

	reused := probeRun(t, append([]string{"--conn", "session"}, base...)...)
	rep := reused.mustReport(t)
	if rep.Summary.Broken != 0 {
		t.Errorf("--conn session: %d broken sessions; expected reuse to pin every session", rep.Summary.Broken)
	}
	if reused.code != exitInconclusive {
		t.Errorf("--conn session: exit %d (%s), want 4: the control group must expose the blind run", reused.code, rep.Verdict)
	}

	fresh := probeRun(t, base...)
	if rep := fresh.mustReport(t); fresh.code != exitFail || rep.Causes[report.CauseNoToken] == 0 {
		t.Errorf("--conn fresh: exit %d causes %v, want 1 with no-token", fresh.code, rep.Causes)
	}

	// In mode http the same reuse does not hide it.
	hh := startLB(t, preset(t, "no-cookie"))
	httpReuse := probeRun(t, append([]string{"--conn", "session", "--sessions", "15", "--requests", "5"}, hostArgs(hh)...)...)
	if rep := httpReuse.mustReport(t); rep.Verdict != report.Fail {
		t.Errorf("mode http with --conn session: verdict %s, want fail (HAProxy balances each request)", rep.Verdict)
	}
}
