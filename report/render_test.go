package report

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/probe"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var servers = []string{"server1", "server2", "server3"}

// goldenCase is a run made of synthetic sessions fed through a Summary.
type goldenCase struct {
	name    string
	verdict Verdict
	opts    Options
	run     func(*Run)
	scripts []script
	stream  func() []probe.Event // instead of scripts: a run with a timeline
	moved   []int                // sessions that moved as --on-backend-loss expects
}

func (gc goldenCase) events() []probe.Event {
	if gc.stream != nil {
		return gc.stream()
	}
	return ordered(gc.scripts...)
}

func (gc goldenCase) report() *Report {
	run := testRun()
	if gc.run != nil {
		gc.run(&run)
	}
	s := NewSummary(gc.opts)
	evs := gc.events()
	for i := range evs {
		s.Add(&evs[i])
	}
	return s.Close(run)
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{name: "pass", verdict: Pass, opts: testOptions(), scripts: passing()},
		{name: "fail", verdict: Fail, opts: testOptions(), scripts: failing()},
		{
			name: "inconclusive", verdict: Inconclusive, opts: testOptions(),
			run:     func(r *Run) { r.Truncated = true },
			scripts: singleBackend(),
		},
		{name: "error", verdict: Error, opts: testOptions(), scripts: unreachable()},
		{
			name: "interrupted", verdict: Pass, opts: testOptions(),
			run:     func(r *Run) { r.Interrupted, r.DurationS = true, 1.2 },
			scripts: interrupted(),
		},
		{
			name: "spread", verdict: Pass,
			opts:    Options{MaxErrorRate: 0.05, ExpectSpread: true},
			run:     func(r *Run) { r.Token, r.Identify = "none", "auto" },
			scripts: spread(),
		},
		{
			name: "topology", verdict: Fail, opts: testOptions(),
			run: func(r *Run) {
				r.Targets = []string{"http://a.shop.example/", "http://b.shop.example/"}
			},
			stream: topology,
			moved:  []int{0, 3, 6, 9},
		},
	}
}

// passing: nine sessions stay on their backend; the three control
// sessions, which keep no cookie, are moved by round robin.
func passing() []script {
	var out []script
	for id := 1; id <= 9; id++ {
		out = append(out, sticky(id, servers[id%3], 6))
	}
	for id := 10; id <= 12; id++ {
		out = append(out, control(id, rr(id, 6, servers...)...))
	}
	return out
}

// failing: four sticky sessions, then one or two of each cause, a session
// named by one response only, and a control group.
func failing() []script {
	refusedOn := func(b string) probe.Event {
		ev := landed(b)
		ev.TokenRefused = probe.RefusedDomain
		return ev
	}
	pathRefused := func(b string) probe.Event {
		ev := landed(b)
		ev.TokenRefused = probe.RefusedPath
		return ev
	}
	out := []script{sticky(1, "server1", 6), sticky(2, "server2", 6), sticky(3, "server3", 6), sticky(4, "server1", 6)}
	// no-token: the LB never sets its cookie.
	for id := 5; id <= 6; id++ {
		sc := script{id: id}
		for _, b := range rr(id, 6, servers...) {
			sc.steps = append(sc.steps, bare(b))
		}
		out = append(out, sc)
	}
	// token-refused: the cookie's Domain does not match the host, or its
	// Path does not cover the application.
	out = append(out,
		script{id: 7, steps: []probe.Event{pathRefused("server2"), pathRefused("server2"), pathRefused("server2"),
			pathRefused("server3"), pathRefused("server1"), pathRefused("server2")}},
		script{id: 8, steps: []probe.Event{refusedOn("server3"), refusedOn("server1"), refusedOn("server2"),
			refusedOn("server3"), refusedOn("server1"), refusedOn("server2")}},
	)
	// token-reassigned: the cookie was sent, another server answered and
	// set its own.
	moved := kept("server3")
	moved.TokenSent, moved.TokenSet = "server1", "server3"
	out = append(out, script{id: 9, steps: []probe.Event{landed("server1"), kept("server1"), kept("server1"),
		moved, kept("server3"), kept("server3")}})
	// after-error: the pinned server failed, the LB failed over.
	over := kept("server1")
	over.TokenSent, over.TokenSet = "server2", "server1"
	out = append(out,
		script{id: 10, steps: []probe.Event{landed("server2"), kept("server2"), failed("server2", probe.ErrHTTP5xx),
			over, kept("server1"), kept("server1")}},
		script{id: 11, steps: []probe.Event{landed("server2"), failed("server2", probe.ErrReset), over,
			kept("server1"), kept("server1"), kept("server1")}},
	)
	// unidentified: only the first response named a backend.
	unnamed := kept("")
	unnamed.TokenSent = "server1"
	out = append(out, script{id: 12, steps: []probe.Event{landed("server1"), unnamed, unnamed, unnamed, unnamed, unnamed}})
	for id := 13; id <= 15; id++ {
		out = append(out, control(id, rr(id, 6, servers...)...))
	}
	return out
}

// singleBackend: only server1 is up, so nothing can move, control group
// included.
func singleBackend() []script {
	var out []script
	for id := 1; id <= 6; id++ {
		out = append(out, sticky(id, "server1", 5))
	}
	return append(out, control(7, rr(0, 5, "server1")...), control(8, rr(0, 5, "server1")...))
}

// unreachable: nothing listens.
func unreachable() []script {
	var out []script
	for id := 1; id <= 4; id++ {
		sc := script{id: id, control: id == 4}
		for range 3 {
			sc.steps = append(sc.steps, probe.Event{Error: probe.ErrRefused, Detail: "connection refused"})
		}
		out = append(out, sc)
	}
	return out
}

// interrupted: Ctrl-C after three rounds; the requests in flight were
// canceled.
func interrupted() []script {
	var out []script
	for id := 1; id <= 4; id++ {
		sc := sticky(id, servers[id%3], 3)
		sc.steps = append(sc.steps, probe.Event{Error: probe.ErrCanceled, TokenHeld: true, TokenSent: servers[id%3]})
		out = append(out, sc)
	}
	return append(out, control(5, rr(0, 3, servers...)...))
}

// spread: no persistence expected (--token none): sessions go round robin.
func spread() []script {
	var out []script
	for id := 1; id <= 4; id++ {
		sc := script{id: id, noToken: true}
		for _, b := range rr(id, 4, servers...) {
			sc.steps = append(sc.steps, bare(b))
		}
		out = append(out, sc)
	}
	return out
}

func TestRenderGolden(t *testing.T) {
	renderers := []struct {
		ext    string
		render func(io.Writer, *Report) error
	}{{"table", Table}, {"json", JSON}, {"md", Markdown}, {"junit.xml", JUnit}}
	for _, gc := range goldenCases() {
		t.Run(gc.name, func(t *testing.T) {
			r := gc.report()
			if r.Verdict != gc.verdict {
				t.Fatalf("verdict %q, want %q (reasons %q)", r.Verdict, gc.verdict, r.Reasons)
			}
			for _, rd := range renderers {
				var buf bytes.Buffer
				if err := rd.render(&buf, r); err != nil {
					t.Fatalf("%s: %v", rd.ext, err)
				}
				golden(t, filepath.Join("testdata", gc.name+"."+rd.ext+".golden"), buf.Bytes())
			}
		})
	}
}

// TestTableFitsTerminal keeps every line of every golden table within the
// width the layout is for.
func TestTableFitsTerminal(t *testing.T) {
	for _, gc := range goldenCases() {
		var buf bytes.Buffer
		if err := Table(&buf, gc.report()); err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(buf.String(), "\n") {
			if n := len([]rune(line)); n > tableWidth {
				t.Errorf("%s: line %d is %d columns wide, want at most %d:\n%s", gc.name, i+1, n, tableWidth, line)
			}
		}
	}
}

func TestTableEmptyReport(t *testing.T) {
	for name, r := range map[string]*Report{"nil": nil, "zero": {}, "closed empty summary": NewSummary(Options{}).Close(Run{})} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Table(&buf, r); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(buf.String(), "VERDICT: ") {
				t.Errorf("got %q, want a first line VERDICT: ...", buf.String())
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestTableReportsWriteError(t *testing.T) {
	r := goldenCases()[1].report()
	if err := Table(failingWriter{}, r); err != io.ErrClosedPipe {
		t.Errorf("Table to a closed pipe: got %v, want %v", err, io.ErrClosedPipe)
	}
}

// golden compares got to the file at path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./report -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
