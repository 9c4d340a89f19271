package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stickyprobe/stickyprobe/internal/harcheck"
	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/urfave/cli/v2"
)

var verdictWord = regexp.MustCompile(`\b(PASS|FAIL|INCONCLUSIVE|ERROR)\b`)

// outputChecks says, for every file output a command can write (by its
// flag, or its --format), what a valid file is. A command that gains an
// output flag fails TestEveryOutputIsWritten until the flag is here.
var outputChecks = map[string]func(path string, data []byte) error{
	"json": func(_ string, data []byte) error {
		var r report.Report
		if err := json.Unmarshal(data, &r); err != nil {
			return err
		}
		if r.Verdict == "" {
			return errorString("no verdict")
		}
		return nil
	},
	"markdown": func(_ string, data []byte) error {
		first, _, _ := strings.Cut(string(data), "\n")
		if !strings.HasPrefix(first, "## stickyprobe: ") || !verdictWord.MatchString(first) {
			return errorString("no verdict heading: " + first)
		}
		return nil
	},
	"junit": func(_ string, data []byte) error {
		var doc struct {
			XMLName xml.Name
			Suites  []struct {
				Cases []struct{} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal(data, &doc); err != nil {
			return err
		}
		if doc.XMLName.Local != "testsuites" || len(doc.Suites) == 0 || len(doc.Suites[0].Cases) == 0 {
			return errorString("not a JUnit report with test cases")
		}
		return nil
	},
	"har": func(_ string, data []byte) error {
		_, err := harcheck.Validate(data)
		return err
	},
	"events": func(path string, _ []byte) error {
		rp, err := report.OpenReplay(path)
		if err != nil {
			return err
		}
		rep, _, err := rp.Report()
		if err == nil && rep.Summary.Requests == 0 {
			err = errorString("no events")
		}
		return err
	},
	"save-state": func(path string, _ []byte) error {
		st, err := os.Stat(path)
		if err == nil && st.Mode().Perm() != 0o600 {
			return errorString("mode " + st.Mode().Perm().String() + ", want 0600: it holds cookies")
		}
		_, err = pipeline.LoadState(path)
		return err
	},
	"prom-textfile": func(_ string, data []byte) error {
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(bytes.NewReader(data))
		if err == nil && fams["stickyprobe_stickiness_ratio"] == nil {
			err = errorString("no stickyprobe_stickiness_ratio")
		}
		return err
	},
	"table": func(_ string, data []byte) error {
		if !verdictWord.MatchString(string(data)) {
			return errorString("no verdict")
		}
		return nil
	},
}

type errorString string

func (e errorString) Error() string { return string(e) }

// inputFlags name files a command reads.
var inputFlags = []string{"scenario", "resume", "haproxy-log"}

// fileOutputFlags are the flags of a command that name a file it writes.
func fileOutputFlags(cmd *cli.Command) []string {
	var names []string
	for _, f := range cmd.Flags {
		sf, ok := f.(*cli.StringFlag)
		if !ok || sf.Hidden || slices.Contains(inputFlags, sf.Name) || !strings.Contains(sf.Usage, "`FILE`") && !strings.Contains(sf.Usage, "`PATH`") {
			continue
		}
		if sf.Category == catOutput || sf.Category == catMonitor {
			names = append(names, sf.Name)
		}
	}
	return names
}

func findCommand(t *testing.T, path ...string) *cli.Command {
	t.Helper()
	cmds := newApp(nil, nil).Commands
	var found *cli.Command
	for _, name := range path {
		i := slices.IndexFunc(cmds, func(c *cli.Command) bool { return c.Name == name })
		if i < 0 {
			t.Fatalf("no command %v", path)
		}
		found, cmds = cmds[i], cmds[i].Subcommands
	}
	return found
}

// Every command that writes files, with every output flag it accepts, one
// at a time and all at once, against a real HAProxy: each file is written
// and valid, so an output flag can never again be accepted and ignored.
func TestEveryOutputIsWritten(t *testing.T) {
	h := startLB(t, preset(t, "textbook"))
	load := []string{"--sessions", "4", "--requests", "4", "--control", "6", "--rate", "0"}
	for _, command := range [][]string{{"run"}, {"scenario", "run"}} {
		flags := fileOutputFlags(findCommand(t, command...))
		if len(flags) < 7 {
			t.Fatalf("%v: output flags %v: fewer than json, markdown, junit, har, events, save-state, prom-textfile", command, flags)
		}
		target := h.URL()
		if command[0] == "scenario" {
			target = "smoke"
		}
		sets := [][]string{flags}
		for _, f := range flags {
			sets = append(sets, []string{f})
		}
		for _, set := range sets {
			name := strings.Join(command, "-") + "/" + strings.Join(set, "+")
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				args := append(slices.Clone(command), load...)
				paths := map[string]string{}
				for _, f := range set {
					if outputChecks[f] == nil {
						t.Fatalf("--%s: no check of what it writes; add one to outputChecks", f)
					}
					paths[f] = filepath.Join(dir, f+".out")
					args = append(args, "--"+f, paths[f])
				}
				args = append(args, target)
				if command[0] == "scenario" {
					args = append(args, h.URL())
				}
				code, stdout, stderr := runCLI(t, args...)
				// The verdict is the LB's; a small control group may see
				// no switch by chance. What is tested is the files.
				if code != exitPass && code != exitInconclusive {
					t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
				}
				if err := outputChecks["table"]("", []byte(stdout)); err != nil {
					t.Errorf("the table on stdout: %v\n%s", err, stdout)
				}
				checkFiles(t, paths)
			})
		}
	}
	t.Run("report", func(t *testing.T) {
		events := filepath.Join(t.TempDir(), "events.jsonl")
		code, out, errOut := runCLI(t, append(append([]string{"run"}, load...), "--quiet", "--events", events, h.URL())...)
		if code != exitPass && code != exitInconclusive {
			t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
		}
		for _, f := range pipeline.Formats {
			path := filepath.Join(t.TempDir(), f.Name+".out")
			if c, out, errOut := runCLI(t, "report", "--format", f.Name, "--output", path, events); c != code {
				t.Fatalf("report --format %s: exit %d, the run's was %d\n%s%s", f.Name, c, code, out, errOut)
			}
			checkFiles(t, map[string]string{f.Name: path})
		}
	})
	t.Run("monitor", func(t *testing.T) {
		flags := fileOutputFlags(findCommand(t, "monitor"))
		if !slices.Equal(flags, []string{"prom-textfile"}) {
			t.Fatalf("monitor's file outputs %v: want only --prom-textfile (add the others here)", flags)
		}
		path := filepath.Join(t.TempDir(), "m.prom")
		code, out, errOut := runCLI(t, "monitor", "--cycles", "1", "--every", "100ms", "--listen", "", "--prom-textfile", path,
			"--sessions", "4", "--requests", "3", "--rate", "0", h.URL())
		if code != exitPass { // a monitor's verdicts are in its metrics
			t.Fatalf("monitor: exit %d\n%s%s", code, out, errOut)
		}
		checkFiles(t, map[string]string{"prom-textfile": path})
	})
}

func checkFiles(t *testing.T, paths map[string]string) {
	t.Helper()
	for f, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("--%s: %v", f, err)
			continue
		}
		if err := outputChecks[f](path, data); err != nil {
			t.Errorf("--%s %s: not valid: %v\n%.400s", f, path, err, data)
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.tmp-*")); len(left) > 0 {
			t.Errorf("temp files left: %v", left)
		}
	}
}

// countingListener is a target that counts the connections made to it.
func countingListener(t *testing.T) (url string, count func() int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return "http://" + ln.Addr().String() + "/", n.Load
}

// An output that cannot be written is refused before the first request,
// so a run never does all its work (or restarts an LB) and then loses the
// verdict. Two outputs on one file or on stdout are refused alike.
func TestOutputsRefusedBeforeTraffic(t *testing.T) {
	url, connections := countingListener(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "exec-ran")
	restart := writeScenario(t, "phases: [{name: before}, {name: restart, exec: 'touch "+marker+"'}, {name: after}]\n")
	same := filepath.Join(dir, "same")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"json dir missing", []string{"run", "--json", "/nonexistent/x.json", url}, "--json /nonexistent/x.json: cannot create a file in /nonexistent/"},
		{"junit dir missing", []string{"run", "--junit", "/nonexistent/x.xml", url}, "--junit /nonexistent/x.xml"},
		{"har dir missing", []string{"run", "--har", "/nonexistent/x.har", url}, "--har /nonexistent/x.har"},
		{"markdown dir missing", []string{"run", "--markdown", "/nonexistent/x.md", url}, "--markdown /nonexistent/x.md"},
		{"events dir missing", []string{"run", "--events", "/nonexistent/x.jsonl", url}, "--events /nonexistent/x.jsonl"},
		{"state dir missing", []string{"run", "--save-state", "/nonexistent/s.json", url}, "--save-state /nonexistent/s.json"},
		{"textfile dir missing", []string{"run", "--prom-textfile", "/nonexistent/x.prom", url}, "--prom-textfile /nonexistent/x.prom"},
		{"output is a directory", []string{"run", "--json", dir, url}, "is a directory"},
		{"scenario exec not run", []string{"scenario", "run", "--json", "/nonexistent/x.json", restart, url}, "--json /nonexistent/x.json"},
		{"two on one file", []string{"run", "--json", same, "--events", same, url}, "two outputs on one file"},
		{"two on one file, spelled apart", []string{"run", "--json", same, "--markdown", filepath.Join(dir, ".", "same"), url}, "two outputs on one file"},
		{"two on stdout", []string{"run", "--json", "-", "--events", "-", url}, "all want stdout"},
		{"har on stdout", []string{"run", "--har", "-", url}, "--har writes to a file, not stdout"},
		{"har-all without har", []string{"scenario", "run", "--har-all", "smoke", url}, "--har-all: give --har FILE too"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
			if n := connections(); n != 0 {
				t.Errorf("%d connections to the target: a refused run must send nothing", n)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the exec phase ran")
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(left) > 0 {
				t.Errorf("temp files left: %v", left)
			}
		})
	}
}

// scenario run honours the trace flags run has: -vv headers, redaction.
func TestScenarioRunTraceFlags(t *testing.T) {
	h := startLB(t, preset(t, "textbook"))
	load := []string{"--sessions", "3", "--requests", "2", "--control", "6", "--rate", "0"}
	code, _, stderr := runCLI(t, append(append([]string{"scenario", "run", "-vv", "--header", "X-Api-Key: k-s3cr3t", "--redact-header", "X-Api-Key"}, load...), "smoke", h.URL())...)
	if code == exitUsage || !strings.Contains(stderr, "    > GET ") || !strings.Contains(stderr, "    < HTTP/1.1 200") {
		t.Errorf("-vv: exit %d, no headers on stderr:\n%.2000s", code, stderr)
	}
	if strings.Contains(stderr, "k-s3cr3t") || !strings.Contains(stderr, "> X-Api-Key: ") {
		t.Errorf("--redact-header X-Api-Key: the value is in clear or the header is missing:\n%.2000s", stderr)
	}
	code, _, stderr = runCLI(t, append(append([]string{"scenario", "run", "--show-secrets"}, load...), "smoke", h.URL())...)
	if code == exitUsage || !strings.Contains(stderr, "WARNING: --show-secrets") {
		t.Errorf("--show-secrets: exit %d, no warning: %s", code, stderr)
	}
}
