package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// TestH2cAgainstHTTP11: nginx 1.22 with a plain `listen` speaks only
// HTTP/1.1; --http2 sends it the HTTP/2 preface and every request fails.
// The report says why (protocol: HTTP/2 spoken to an HTTP/1.1 server) and
// what to do, instead of a vague "other".
func TestH2cAgainstHTTP11(t *testing.T) {
	t.Parallel()
	l := startOtherLB(t, lab.NginxConfig{}, lab.BackendOptions{})
	res := probeRun(t, append([]string{"--http2", "--sessions", "3", "--requests", "2"}, nodeArgs(l.LB)...)...)
	rep := res.mustReport(t)
	t.Logf("errors %v, notes %+v", rep.Errors, rep.Notes)
	if rep.Verdict != report.Error || rep.Errors[probe.ErrProtocol] != rep.Summary.Requests {
		t.Fatalf("verdict %s, errors %v: want every request a protocol error", rep.Verdict, rep.Errors)
	}
	// net/http says the one or the other, as the answer or the close
	// comes first.
	if rep.Notes == nil || rep.Notes.ErrorReasons["protocol: "+probe.ReasonH2cOverH1]+rep.Notes.ErrorReasons["protocol: "+probe.ReasonNoH2Answer] != rep.Summary.Requests {
		t.Fatalf("notes %+v: want an HTTP/2 reason on every request", rep.Notes)
	}
	if !strings.Contains(res.stdout, "drop --http2") {
		t.Errorf("the table has no h2c hint:\n%s", res.stdout)
	}
}

// TestSecureCookieOnLoopback: HAProxy's `secure` cookie over plain http
// is kept when the target is 127.0.0.1, as browsers treat loopback as a
// secure context: the run passes, and the report says that a real host
// name is needed to see the refusal users get; by a host name it fails.
func TestSecureCookieOnLoopback(t *testing.T) {
	h := startLB(t, preset(t, "cookie-secure"))
	res := probeRun(t, "--sessions", "6", "--requests", "3", "http://127.0.0.1:"+strconv.Itoa(h.Port())+"/")
	rep := res.mustReport(t)
	if rep.Verdict != report.Pass || rep.Notes == nil || rep.Notes.SecureLoopback == 0 {
		t.Fatalf("on 127.0.0.1: verdict %s, notes %+v: want a pass with the loopback note", rep.Verdict, rep.Notes)
	}
	if !strings.Contains(strings.Join(strings.Fields(res.stdout), " "), "A real host name is needed to see that") {
		t.Errorf("no loopback hint in the table:\n%s", res.stdout)
	}
	res = probeRun(t, append([]string{"--sessions", "6", "--requests", "3"}, hostArgs(h)...)...)
	rep = res.mustReport(t)
	if rep.Verdict != report.Fail || rep.Refusals[probe.RefusedSecure] == 0 {
		t.Fatalf("by host name: verdict %s, refusals %v: want secure-over-http", rep.Verdict, rep.Refusals)
	}
}

// redirectRoot answers / with a redirect to /app from HAProxy itself,
// before a server is chosen, as sites send users to their application.
var redirectRoot = lab.HAProxyConfig{Balance: "roundrobin", Cookie: "SERVERID insert indirect nocache", ServerCookies: true,
	BackendLines: []string{"http-request redirect location /app code 302 if { path / }"}}

// TestRedirectingFrontend: against HAProxy answering 302 on /, the report
// says the responses were redirects and where to; --follow-redirects
// follows each to /app in the session's jar and judges the backends.
func TestRedirectingFrontend(t *testing.T) {
	h := startLB(t, redirectRoot)
	args := append([]string{"--sessions", "9", "--requests", "4"}, hostArgs(h)...)
	res := probeRun(t, args...)
	rep := res.mustReport(t)
	t.Logf("not followed: exit %d, verdict %s, reasons %q, notes %+v", res.code, rep.Verdict, rep.Reasons, rep.Notes)
	want := "http://" + labHost + ":" + strconv.Itoa(h.Port()) + "/app"
	if rep.Notes == nil || rep.Notes.Redirects != rep.Summary.Requests || rep.Notes.RedirectTo[want] != rep.Summary.Requests {
		t.Fatalf("notes %+v: want every response a redirect to %s", rep.Notes, want)
	}
	if !strings.Contains(strings.Join(rep.Reasons, "|"), "responses were redirects (to "+want) {
		t.Errorf("reasons %q do not say the responses were redirects", rep.Reasons)
	}
	res = probeRun(t, append([]string{"--follow-redirects"}, args...)...)
	rep = res.mustReport(t)
	t.Logf("followed: exit %d, verdict %s, sticky %d, notes %+v", res.code, rep.Verdict, rep.Summary.Sticky, rep.Notes)
	if res.code != exitPass || rep.Summary.Sticky != 9 || rep.Notes == nil || rep.Notes.Followed != rep.Summary.Requests {
		t.Fatalf("followed: exit %d, verdict %s, sticky %d, notes %+v; reasons %q", res.code, rep.Verdict, rep.Summary.Sticky, rep.Notes, rep.Reasons)
	}
	for _, ev := range res.events {
		if ev.Status != 200 || ev.Backend == "" || len(ev.Redirects) != 1 || ev.Redirects[0] != want {
			t.Fatalf("event %+v: want the 200 of a server after one hop to /app", ev)
		}
	}
}
