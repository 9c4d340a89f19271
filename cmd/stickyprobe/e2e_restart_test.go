package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
)

// These tests run restart smoke tests against a real haproxy: a scenario
// pins sessions, an exec phase restarts (or reloads) the lab's HAProxy
// through a hook, and the probe says whether the sessions stayed.

// smokeScenario is restart-smoke with the exec phase's command given.
func smokeScenario(t *testing.T, action, command string, sessions int) string {
	t.Helper()
	return writeScenario(t, `name: smoke-`+action+`
sessions: `+strconv.Itoa(sessions)+`
requests: 4
phases:
  - name: before
  - name: `+action+`
    exec: "`+strings.ReplaceAll(command, `"`, `\"`)+`"
    timeout: 40s
  - name: after
`)
}

// checkSticky asserts a restart that kept every session in place.
func checkSticky(t *testing.T, res scenarioResult, action string, wantCode int) {
	t.Helper()
	rep := res.mustReport(t)
	if res.code != wantCode || rep.Summary.Broken != 0 || rep.Summary.Sticky == 0 {
		t.Fatalf("exit %d (want %d), verdict %s, %d broken of %d: %q\n%s", res.code, wantCode, rep.Verdict, rep.Summary.Broken, rep.Summary.Sticky+rep.Summary.Broken, rep.Reasons, res.stderr)
	}
	if a := phaseOf(t, rep, action).Action; a == nil || a.Failed {
		t.Fatalf("phase %s: %+v, want a successful exec", action, a)
	}
	marked := 0
	for _, ev := range res.events {
		if ev.AfterAction == action {
			marked++
			if ev.Phase != "after" {
				t.Errorf("event after %s in phase %q", action, ev.Phase)
			}
		}
	}
	if want := rep.Summary.Sessions + rep.Control.Sessions; marked != want {
		t.Errorf("%d events marked after %s, want one per session (%d)", marked, action, want)
	}
}

// checkBroken asserts a restart that moved every measured session, each
// blamed on the restart.
func checkBroken(t *testing.T, res scenarioResult, action string) {
	t.Helper()
	rep := res.mustReport(t)
	if res.code != exitFail || rep.Verdict != report.Fail {
		t.Fatalf("exit %d verdict %s, want 1/fail: %q\n%s", res.code, rep.Verdict, rep.Reasons, res.stderr)
	}
	after, before := phaseOf(t, rep, "after"), phaseOf(t, rep, "before")
	if before.Broken != 0 || rep.Causes[report.CauseAfterAction] != rep.Summary.Broken || after.Broken != rep.Summary.Broken {
		t.Errorf("before %d broken, after %d, causes %v: want every broken session blamed on %s, in phase after", before.Broken, after.Broken, rep.Causes, action)
	}
	if after.After != action {
		t.Errorf("phase after follows %q, want %q", after.After, action)
	}
	if !strings.Contains(string(res.junit), `name="phase after"`) || !strings.Contains(string(res.junit), "after-action") {
		t.Errorf("JUnit report does not fail phase after with after-action:\n%s", res.junit)
	}
}

// Cookie insert names the server in the cookie: a full restart changes
// nothing, and the scenario passes.
func TestScenarioRestartKeepsCookieInsertSticky(t *testing.T) {
	t.Parallel()
	h := startLB(t, preset(t, "textbook"))
	file := smokeScenario(t, "restart", hook(t, h.Restart), 20)
	res := scenarioRunCLI(t, append(resolveArgs(h), file, hostURL(h))...)
	checkSticky(t, res, "restart", exitPass)
	if rep := res.mustReport(t); rep.Run.Scenario != "smoke-restart" || len(rep.Phases) != 3 {
		t.Errorf("scenario %q, %d phases", rep.Run.Scenario, len(rep.Phases))
	}
	if !strings.Contains(res.stderr, "phase restart: ok in") {
		t.Errorf("stderr does not report the exec phase:\n%s", res.stderr)
	}
}

// srcConfig is `balance roundrobin` with a stick table on the source
// address. Every request comes from 127.0.0.1, and the lab's own readiness
// request pins that address to the first server at every start; the short
// expire lets that entry go before the probe starts, so the probe's
// sessions pin themselves, as they would behind other users in production.
// Without it a restart looks harmless: roundrobin rebuilds the very same
// table from a cold start.
func srcConfig(peers bool) lab.HAProxyConfig {
	table := "stick-table type ip size 1m expire 2s"
	if peers {
		table += " peers " + lab.PeersSection
	}
	return lab.HAProxyConfig{Balance: "roundrobin", Peers: peers, BackendLines: []string{table, "stick on src"}}
}

const peersSettle = 5500 * time.Millisecond // HAProxy's resync wait after a cold start, and then some

func TestScenarioStickOnSrc(t *testing.T) {
	t.Parallel()
	// One request at a time: concurrent first requests from one address
	// race the table's first store and land on different servers.
	args := []string{"--token", "source", "--id", "header:X-Backend", "--concurrency", "1"}
	t.Run("restart loses the table", func(t *testing.T) {
		t.Parallel()
		h := startLB(t, srcConfig(false))
		time.Sleep(2500 * time.Millisecond) // the readiness request's entry expires
		file := smokeScenario(t, "restart", hook(t, h.Restart), 10)
		res := scenarioRunCLI(t, append(append(args, resolveArgs(h)...), file, hostURL(h))...)
		checkBroken(t, res, "restart")
		if rep := res.mustReport(t); rep.Summary.Broken != rep.Summary.Sessions {
			t.Errorf("%d of %d sessions broken, want all: they share one address", rep.Summary.Broken, rep.Summary.Sessions)
		}
	})
	t.Run("reload with peers keeps it", func(t *testing.T) {
		t.Parallel()
		h := startLB(t, srcConfig(true))
		time.Sleep(peersSettle)
		file := smokeScenario(t, "reload", hook(t, h.Reload), 10)
		res := scenarioRunCLI(t, append(append(args, resolveArgs(h)...), file, hostURL(h))...)
		// One client address: the control group cannot move either, so
		// the verdict is inconclusive, not pass. What matters here is
		// that nobody moved across the reload.
		checkSticky(t, res, "reload", exitInconclusive)
	})
}

func TestScenarioStickOnAppCookie(t *testing.T) {
	t.Parallel()
	t.Run("restart loses the table", func(t *testing.T) {
		t.Parallel()
		h := presetLB(t, "stick-app-cookie")
		file := smokeScenario(t, "restart", hook(t, h.Restart), 20)
		res := scenarioRunCLI(t, append(resolveArgs(h), file, hostURL(h))...)
		checkBroken(t, res, "restart")
		rep := res.mustReport(t)
		if rep.Run.TokenName != lab.AppCookie {
			t.Errorf("token %q, want %s learned", rep.Run.TokenName, lab.AppCookie)
		}
		// A session's first request after the restart may land on its old
		// server by luck; all of them move within the phase.
		if rep.Summary.Broken < rep.Summary.Sessions*3/4 {
			t.Errorf("only %d of %d sessions broke after the restart", rep.Summary.Broken, rep.Summary.Sessions)
		}
	})
	t.Run("reload with peers keeps it", func(t *testing.T) {
		t.Parallel()
		h := presetLB(t, "stick-app-cookie")
		time.Sleep(peersSettle)
		file := smokeScenario(t, "reload", hook(t, h.Reload), 20)
		res := scenarioRunCLI(t, append(resolveArgs(h), file, hostURL(h))...)
		checkSticky(t, res, "reload", exitPass)
	})
}

// A failing exec phase fails the run and its output reaches the report;
// allow_failure keeps the verdict; a timeout stops the whole command.
func TestScenarioExecFailure(t *testing.T) {
	t.Parallel()
	h := startLB(t, preset(t, "textbook"))
	scenario := func(exec, extra string) string {
		return writeScenario(t, "sessions: 6\nrequests: 3\nphases:\n  - name: before\n  - name: deploy\n    exec: '"+exec+"'\n"+extra+"  - name: after\n")
	}
	res := scenarioRunCLI(t, append(resolveArgs(h), scenario("echo deploying; echo broken >&2; exit 3", ""), hostURL(h))...)
	rep := res.mustReport(t)
	a := phaseOf(t, rep, "deploy").Action
	if res.code != exitFail || a == nil || !a.Failed || a.ExitCode != 3 || a.Output != "deploying\nbroken\n" {
		t.Fatalf("exit %d, action %+v: want 1 and the failed command with its output", res.code, a)
	}
	if !strings.Contains(strings.Join(rep.Reasons, " "), "phase deploy failed: exit status 3") || !strings.Contains(res.stdout, "| broken") {
		t.Errorf("reasons %q; table:\n%s", rep.Reasons, res.stdout)
	}
	if phaseOf(t, rep, "after").Requests == 0 {
		t.Error("the run stopped at the failed exec; it should go on and show what happened after")
	}

	res = scenarioRunCLI(t, append(resolveArgs(h), scenario("exit 3", "    allow_failure: true\n"), hostURL(h))...)
	if res.code != exitPass {
		t.Errorf("allow_failure: exit %d, want 0: %q", res.code, res.mustReport(t).Reasons)
	}

	start := time.Now()
	res = scenarioRunCLI(t, append(resolveArgs(h), scenario("sleep 30 & sleep 30", "    timeout: 300ms\n"), hostURL(h))...)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("a 300 ms exec timeout held the run for %s", took)
	}
	if a := phaseOf(t, res.mustReport(t), "deploy").Action; a == nil || a.Error != "timed out after 300ms" {
		t.Errorf("timeout: action %+v", a)
	}
}
