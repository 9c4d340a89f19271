package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
)

// The CI form of a restart smoke test: probe and save the sessions, restart
// HAProxy, resume them in another process. Its verdict must match the
// single-process scenario's, and the state file (which holds the sessions'
// cookies) must be private while nothing else shows an application cookie.
func TestSaveStateResumeAcrossProcesses(t *testing.T) {
	t.Parallel()
	textbook := preset(t, "textbook")
	appCookie, _ := lab.PresetByName("stick-app-cookie")
	tests := []struct {
		name    string
		cfg     lab.HAProxyConfig
		backend lab.BackendOptions
		want    report.Verdict
	}{
		// The backends also set an application cookie next to SERVERID: it
		// must travel in the state file and nowhere else.
		{"cookie insert survives", textbook, lab.BackendOptions{AppCookie: "APPSESSION"}, report.Pass},
		{"stick table on the app cookie is lost", appCookie.Config, appCookie.Backend, report.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := startLBWith(t, tt.cfg, tt.backend)
			load := []string{"--sessions", "12", "--requests", "4", "--rate", "0"}

			// One process, one scenario.
			one := scenarioRunCLI(t, append(append(load, resolveArgs(h)...), smokeScenario(t, "restart", hook(t, h.Restart), 12), hostURL(h))...)
			if rep := one.mustReport(t); rep.Verdict != tt.want {
				t.Fatalf("single-process verdict %s, want %s: %q", rep.Verdict, tt.want, rep.Reasons)
			}

			// Two processes around a restart.
			dir := t.TempDir()
			state, before, after := filepath.Join(dir, "state.json"), filepath.Join(dir, "before.json"), filepath.Join(dir, "after.json")
			code, out1, err1 := runBinary(t, append(append(append([]string{"run", "--save-state", state, "--json", before}, load...), resolveArgs(h)...), hostURL(h))...)
			if code != exitPass {
				t.Fatalf("first process: exit %d\n%s%s", code, out1, err1)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err := h.Restart(ctx)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			// No URL: the targets come from the state; --resolve does not.
			code, out2, err2 := runBinary(t, append([]string{"run", "--resume", state, "--json", after, "--events", filepath.Join(dir, "events.jsonl"),
				"--requests", "4", "--rate", "0"}, resolveArgs(h)...)...)
			rep := readReport(t, after)
			if rep.Verdict != tt.want || code != verdictCode(tt.want) {
				t.Fatalf("resumed process: exit %d verdict %s, want %s as in one process: %q\n%s%s", code, rep.Verdict, tt.want, rep.Reasons, out2, err2)
			}
			if rep.Summary.Sessions != 12 || rep.Summary.Broken != rep.Causes[report.CauseAfterAction] {
				t.Errorf("resumed: %d sessions, %d broken, causes %v: want 12 and every break after-action", rep.Summary.Sessions, rep.Summary.Broken, rep.Causes)
			}
			events, err := os.ReadFile(filepath.Join(dir, "events.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			evs := decodeEvents(t, events)
			for _, ev := range evs {
				if (ev.Seq == 4) != (ev.AfterAction == "resume") || ev.Seq < 4 {
					t.Fatalf("resumed event seq %d after %q: want seq 4..7, the first marked after resume", ev.Seq, ev.AfterAction)
				}
			}

			// The state file is the owner's alone and holds the cookies.
			st, err := os.Stat(state)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("state file mode %v, want 0600", st.Mode().Perm())
			}
			data, _ := os.ReadFile(state)
			values := regexp.MustCompile(`"name":"APPSESSION","value":"([0-9a-f]{32})"`).FindAllSubmatch(data, -1)
			if len(values) == 0 {
				t.Fatalf("state file holds no APPSESSION cookie:\n%.400s", data)
			}
			if tt.want == report.Pass { // there APPSESSION is not the token: it must show nowhere
				beforeJSON, _ := os.ReadFile(before)
				afterJSON, _ := os.ReadFile(after)
				seen := out1 + err1 + out2 + err2 + string(beforeJSON) + string(afterJSON) + string(events)
				for _, v := range values {
					if strings.Contains(seen, string(v[1])) {
						t.Fatalf("application cookie value %s leaked into output, reports or events", v[1])
					}
				}
				if !strings.Contains(err1, "it holds their cookies: keep it private") {
					t.Errorf("first process does not warn about the state file:\n%s", err1)
				}
			}
		})
	}
}

func readReport(t *testing.T, path string) *report.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}
