package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stickyprobe/stickyprobe/internal/harcheck"
	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Two frontends, one sticky (textbook) and one not (no-cookie); sessions
// alternate between them. The HAR must hold exactly the sessions that
// broke, every request of each, and validate as HAR 1.2.
func TestHARHoldsExactlyTheBrokenSessions(t *testing.T) {
	good, bad := startLB(t, preset(t, "textbook")), startLB(t, preset(t, "no-cookie"))
	harPath := filepath.Join(t.TempDir(), "broken.har")
	goodArgs, badArgs := hostArgs(good), hostArgs(bad)
	res := probeRun(t, "--sessions", "12", "--requests", "4", "--control", "3", "--har", harPath,
		goodArgs[0], goodArgs[1], badArgs[0], badArgs[1], goodArgs[2], badArgs[2])
	rep := res.mustReport(t)
	log, err := harcheck.Validate(readFile(t, harPath))
	if err != nil {
		t.Fatal(err)
	}

	// Broken sessions, from the events alone.
	pins, broken, requests := map[int]string{}, map[int]bool{}, map[int]int{}
	for _, ev := range res.events {
		requests[ev.Session]++
		if ev.Control || ev.Backend == "" {
			continue
		}
		if pin, ok := pins[ev.Session]; !ok {
			pins[ev.Session] = ev.Backend
		} else if pin != ev.Backend {
			broken[ev.Session] = true
		}
	}
	if len(broken) == 0 || len(broken) != rep.Summary.Broken || len(broken) > 6 {
		t.Fatalf("%d broken sessions in the events, %d in the report: want the no-cookie frontend's (at most 6) and no other", len(broken), rep.Summary.Broken)
	}
	pages := map[string]int{}
	for _, p := range log.Pages {
		sp := p.Custom["_stickyprobe"].(map[string]any)
		id := int(sp["session"].(float64))
		if !broken[id] {
			t.Errorf("page %s: session %d did not break", p.ID, id)
		}
		delete(broken, id)
		pages[p.ID] = requests[id]
	}
	if len(broken) > 0 {
		t.Errorf("broken sessions without a page: %v", broken)
	}
	entries := map[string]int{}
	for _, e := range log.Entries {
		entries[e.Pageref]++
		sp := e.Raw["_stickyprobe"].(map[string]any)
		if sp["frontend"] != badArgs[2] {
			t.Errorf("entry of %s on %v: only the no-cookie frontend breaks", e.Pageref, sp["frontend"])
		}
		if e.Raw["serverIPAddress"] != "127.0.0.1" || e.Raw["connection"] == nil {
			t.Errorf("entry %s: serverIPAddress %v connection %v", e.Pageref, e.Raw["serverIPAddress"], e.Raw["connection"])
		}
		req := e.Raw["request"].(map[string]any)
		if hs := req["headers"].([]any); len(hs) < 2 {
			t.Errorf("entry %s: request headers %v, want those sent", e.Pageref, hs)
		}
		resp := e.Raw["response"].(map[string]any)
		if resp["status"] != 200.0 || len(resp["headers"].([]any)) == 0 {
			t.Errorf("entry %s: response %v", e.Pageref, resp)
		}
	}
	for id, n := range pages {
		if entries[id] != n {
			t.Errorf("page %s: %d entries, want all %d requests of the session", id, entries[id], n)
		}
	}
}

// No secret reaches any output unless --show-secrets: the backends set an
// application session cookie with recognisable values and echo the
// Authorization header; the probe sends Authorization and a header named
// by --redact-header. Every file and stream is searched.
func TestNoSecretInAnyOutput(t *testing.T) {
	var n atomic.Int64
	h := startLBWith(t, preset(t, "textbook"), lab.BackendOptions{AppCookie: "JSESSIONID", EchoAuthorization: true,
		AppCookieValue: func() string { return fmt.Sprintf("appsecret-%d-0a1b2c3d", n.Add(1)) }})
	secrets := []string{"tok-s3cr3t-XYZ", "key-s3cr3t-QRS", "appsecret-"}

	probe := func(t *testing.T, extra ...string) (dir, all string) {
		dir = t.TempDir()
		args := append([]string{"run", "--sessions", "6", "--requests", "3", "-vv",
			"-H", "Authorization: Bearer tok-s3cr3t-XYZ", "-H", "X-Api-Key: key-s3cr3t-QRS", "--redact-header", "x-api-key",
			"--json", filepath.Join(dir, "r.json"), "--events", filepath.Join(dir, "e.jsonl"),
			"--har", filepath.Join(dir, "h.har"), "--markdown", filepath.Join(dir, "r.md")}, extra...)
		code, stdout, stderr := runCLI(t, append(args, hostArgs(h)...)...)
		if code != exitPass {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		var b strings.Builder
		b.WriteString(stdout + stderr)
		for _, f := range []string{"table", "json", "markdown", "junit", "har"} {
			_, out, errs := runCLI(t, "report", "--format", f, filepath.Join(dir, "e.jsonl"))
			b.WriteString(out + errs)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b.Write(readFile(t, filepath.Join(dir, e.Name())))
		}
		if len(entries) != 4 {
			t.Errorf("%d files written, want 4", len(entries))
		}
		if !strings.Contains(stderr, "> Authorization: Bearer ") || !strings.Contains(stderr, "< X-Echo-Authorization") {
			t.Errorf("-vv did not print the headers:\n%s", stderr)
		}
		if strings.Contains(stderr, "\x1b[") {
			t.Error("-v output to a pipe is colored")
		}
		return dir, b.String()
	}

	t.Run("redacted", func(t *testing.T) {
		dir, all := probe(t)
		for _, s := range secrets {
			if strings.Contains(all, s) {
				i := strings.Index(all, s)
				t.Errorf("secret %q leaked: …%s…", s, all[max(i-120, 0):min(i+40, len(all))])
			}
		}
		if !strings.Contains(all, "SERVERID=s") {
			t.Error("the affinity token is not in clear: the evidence was redacted too")
		}
		// The same secret hashes alike: sent and echoed, in every entry.
		if _, err := harcheck.Validate(readFile(t, filepath.Join(dir, "h.har"))); err != nil {
			t.Fatal(err)
		}
		var evs []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(string(readFile(t, filepath.Join(dir, "e.jsonl")))), "\n")[1:] {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatal(err)
			}
			if _, ok := m["http"]; ok {
				evs = append(evs, m)
			}
		}
		seen := map[string]bool{}
		for _, ev := range evs {
			x := ev["http"].(map[string]any)
			for _, key := range []string{"request_headers", "response_headers"} {
				list, _ := x[key].([]any)
				for _, hv := range list {
					hm := hv.(map[string]any)
					if name := hm["name"].(string); name == "Authorization" || name == "X-Echo-Authorization" {
						seen[hm["value"].(string)] = true
					}
				}
			}
		}
		if len(seen) != 1 || len(evs) != 27 {
			t.Errorf("Authorization recorded as %v in %d traced events: want one redacted value, sent and echoed alike, in all 27 (6+3 sessions × 3)", seen, len(evs))
		}
	})

	t.Run("show-secrets", func(t *testing.T) {
		dir, all := probe(t, "--show-secrets")
		// Files that hold secrets in clear are the owner's alone.
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if info, err := e.Info(); err != nil || info.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v (%v), want 0600: it holds secrets in clear", e.Name(), info.Mode().Perm(), err)
			}
		}
		for _, s := range secrets {
			if !strings.Contains(all, s) {
				t.Errorf("--show-secrets: %q is nowhere, so the redacted run's search proves nothing", s)
			}
		}
		if !strings.Contains(all, "WARNING: --show-secrets") {
			t.Error("--show-secrets said nothing on stderr")
		}
	})
}

// stickyprobe report EVENTS prints what the live run printed, in every
// format, byte for byte; two files merge.
func TestReportReplaysTheLiveRun(t *testing.T) {
	h := startLB(t, preset(t, "cookie-domain"))
	dir := t.TempDir()
	harPath, mdPath, junitPath := filepath.Join(dir, "h.har"), filepath.Join(dir, "r.md"), filepath.Join(dir, "j.xml")
	res := probeRun(t, append([]string{"--sessions", "8", "--requests", "4", "--har", harPath, "--markdown", mdPath, "--junit", junitPath}, hostArgs(h)...)...)
	rep := res.mustReport(t)
	if res.code != exitFail || rep.Causes[report.CauseTokenRefused] == 0 {
		t.Fatalf("exit %d causes %v: want a token-refused failure", res.code, rep.Causes)
	}
	events := res.eventsPath
	live := map[string]string{
		"table":    res.stdout,
		"json":     string(readFile(t, res.jsonPath)),
		"markdown": string(readFile(t, mdPath)),
		"har":      string(readFile(t, harPath)),
		"junit":    string(readFile(t, junitPath)),
	}
	for format, want := range live {
		code, got, stderr := runCLI(t, "report", "--format", format, events)
		if code != exitFail {
			t.Errorf("%s: exit %d, want the verdict's 1\n%s", format, code, stderr)
		}
		if got != want {
			t.Errorf("%s: report differs from the live run\nlive:\n%s\nreport:\n%s", format, want, got)
		}
	}

	code, out, _ := runCLI(t, "report", "--format", "json", events, events)
	var merged report.Report
	if err := json.Unmarshal([]byte(out), &merged); err != nil || code != exitFail {
		t.Fatalf("merged: exit %d, %v", code, err)
	}
	if merged.Summary.Sessions != 2*rep.Summary.Sessions || len(merged.Run.Vantages) != 2 || merged.Backends["server1"].Requests != 2*rep.Backends["server1"].Requests {
		t.Errorf("merged %+v: want both files' sessions, two vantages, backends summed", merged.Summary)
	}
	for _, sm := range merged.Samples {
		// The same file twice: the base names collide, so the paths
		// name them, the second one with #2.
		if !strings.HasSuffix(sm.Source, "events.jsonl") && !strings.HasSuffix(sm.Source, "events.jsonl#2") {
			t.Errorf("merged sample %+v: want it named by its file", sm)
		}
	}
}

func TestReportCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"stickyprobe_events":1,"sessions":1,"options":{"min_stickiness":1},"run":{}}`+"\n{not json\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"garbage", []string{"report", bad}, "bad.jsonl:2:"},
		{"missing file", []string{"report", filepath.Join(dir, "nope.jsonl")}, "no such file"},
		{"no file", []string{"report"}, "no events file"},
		{"bad format", []string{"report", "--format", "pdf", bad}, "--format"},
		{"har-all without har", []string{"report", "--har-all", bad}, "--har-all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d stderr %q, want 2 mentioning %q", code, stderr, tt.want)
			}
		})
	}
}

// rrServer is a deterministic fake LB: plain round robin, one backend name
// per request, in arrival order.
func rrServer(t *testing.T) string {
	var mu sync.Mutex
	next := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		b := "b" + strconv.Itoa(next%3)
		next++
		mu.Unlock()
		w.Header().Set("X-Backend", b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// order is the (session, seq, backend) sequence of a run.
func order(res probeResult) string {
	var b strings.Builder
	for _, ev := range res.events {
		fmt.Fprintf(&b, "%d/%d/%s ", ev.Session, ev.Seq, ev.Backend)
	}
	return b.String()
}

// unquote splits a command line the report printed into its arguments.
func unquote(cmd string) []string {
	var args []string
	var cur strings.Builder
	in, any := false, false
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case in && c == '\'':
			in = false
		case in:
			cur.WriteByte(c)
		case c == '\'':
			in, any = true, true
		case c == '\\' && i+1 < len(cmd):
			i++
			cur.WriteByte(cmd[i])
			any = true
		case c == ' ':
			if any {
				args = append(args, cur.String())
				cur.Reset()
				any = false
			}
		default:
			cur.WriteByte(c)
			any = true
		}
	}
	if any {
		args = append(args, cur.String())
	}
	return args
}

// --seed repeats the request order against a deterministic fake, and the
// command a report prints repeats a run whose seed was random.
func TestSeedRepeatsTheRun(t *testing.T) {
	base := []string{"--sessions", "8", "--control", "2", "--requests", "3", "--concurrency", "1"}
	first := probeRun(t, append(base, "--seed", "7", rrServer(t))...)
	again := probeRun(t, append(base, "--seed", "7", rrServer(t))...)
	if order(first) == "" || order(first) != order(again) {
		t.Fatalf("--seed 7 twice:\n%s\n%s", order(first), order(again))
	}
	if other := probeRun(t, append(base, "--seed", "8", rrServer(t))...); order(other) == order(first) {
		t.Error("seeds 7 and 8 give the same order: the seed does nothing")
	}

	random := probeRun(t, append(base, rrServer(t))...)
	cmd := random.mustReport(t).Run.Command
	args := unquote(cmd)
	if len(args) < 3 || args[0] != "stickyprobe" || args[1] != "run" || !strings.Contains(cmd, "--seed "+strconv.FormatUint(random.report.Run.Seed, 10)) {
		t.Fatalf("rerun command %q: want stickyprobe run ... --seed %d", cmd, random.report.Run.Seed)
	}
	// Same order on a fresh fake: its own URL replaces the old one.
	args[len(args)-1] = rrServer(t)
	rerun := probeRun(t, args[2:]...)
	if order(rerun) != order(random) {
		t.Errorf("the printed command %q did not repeat the run:\n%s\n%s", cmd, order(random), order(rerun))
	}
}
