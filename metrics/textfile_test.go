package metrics

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parseText parses a textfile as node_exporter does and returns the number
// of series per family.
func parseText(data []byte) (map[string]int, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(fams))
	for name, mf := range fams {
		out[name] = len(mf.GetMetric())
	}
	return out, nil
}

func TestWriteTextfile(t *testing.T) {
	m := New(Options{Scenario: "smoke"})
	fullCycle(t, m)
	path := filepath.Join(t.TempDir(), "stickyprobe.prom")
	if err := m.WriteTextfile(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fams, err := parseText(data)
	if err != nil {
		t.Fatalf("textfile does not parse: %v\n%s", err, data)
	}
	if fams["stickyprobe_stickiness_ratio"] != 2 || fams["stickyprobe_cycles_total"] != 4 {
		t.Errorf("families %v, want stickiness for 2 frontends and 4 verdicts", fams)
	}
	for name := range fams {
		if !strings.HasPrefix(name, "stickyprobe_") {
			t.Errorf("textfile holds %s: node_exporter has its own runtime series and rejects duplicates", name)
		}
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 so node_exporter (another user) can read it", st.Mode().Perm())
	}
	if left := temps(t, path); len(left) != 0 {
		t.Errorf("temp files left behind: %v", left)
	}
}

func temps(t *testing.T, path string) []string {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return left
}

func TestWriteAtomicFailureLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	// A directory in the way: the rename fails after the temp was written.
	path := filepath.Join(dir, "stickyprobe.prom")
	if err := os.MkdirAll(filepath.Join(path, "busy"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(path, []byte("x 1\n")); err == nil {
		t.Fatal("rename over a non-empty directory succeeded")
	}
	if left := temps(t, path); len(left) != 0 {
		t.Errorf("temp files left behind after a failed write: %v", left)
	}
	if err := WriteAtomic(filepath.Join(dir, "missing", "x.prom"), nil); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

func TestWriteAtomicRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.prom")
	stale, fresh := filepath.Join(dir, ".s.prom.tmp-1"), filepath.Join(dir, ".s.prom.tmp-2")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(path, []byte("x 1\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("a temp file an hour old was not removed")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a fresh temp file (maybe a write in progress) was removed")
	}
}

// The helper process for TestWriteAtomicSurvivesKill: it rewrites the file
// as fast as it can until it is killed.
const helperEnv = "STICKYPROBE_TEXTFILE_WRITER"

// bigSeries makes each write take long enough for a kill to land inside it.
const bigSeries = 40_000

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		writeForever(path)
		return
	}
	os.Exit(m.Run())
}

func writeForever(path string) {
	// Two contents built once, so the loop spends its time writing.
	var bufs [2]bytes.Buffer
	for gen := range bufs {
		buf := &bufs[gen]
		fmt.Fprintf(buf, "# TYPE stickyprobe_test_generation gauge\nstickyprobe_test_generation %d\n", gen)
		buf.WriteString("# TYPE stickyprobe_test_series gauge\n")
		for i := range bigSeries {
			fmt.Fprintf(buf, "stickyprobe_test_series{i=\"%d\"} %d\n", i, gen)
		}
	}
	for gen := 0; ; gen++ {
		if err := WriteAtomic(path, bufs[gen%2].Bytes()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if gen == 0 {
			fmt.Println("ready") // the parent kills from now on
		}
	}
}

// TestWriteAtomicSurvivesKill kills a writer at random moments, with the
// one signal no handler can catch, and checks that the file is always
// either absent or complete.
func TestWriteAtomicSurvivesKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stickyprobe.prom")
	midWrite, try := 0, 0
	for ; try < 40 && midWrite < 3; try++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan struct{})
		go func() { io.ReadFull(stdout, make([]byte, 6)); close(ready) }()
		select {
		case <-ready:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatal("writer never finished its first write")
		}
		time.Sleep(time.Duration(try*7%40) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if stderr.Len() > 0 {
			t.Fatalf("writer failed: %s", stderr.String())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fams, err := parseText(data)
		if err != nil {
			t.Fatalf("try %d: the textfile is not a complete exposition: %v", try, err)
		}
		if n := fams["stickyprobe_test_series"]; n != bigSeries {
			t.Fatalf("try %d: %d series, want %d: a half-written file", try, n, bigSeries)
		}
		if left := temps(t, path); len(left) > 0 {
			midWrite++ // this kill landed inside a write
			for _, p := range left {
				os.Remove(p)
			}
		}
	}
	if midWrite == 0 {
		t.Fatal("no kill landed inside a write: the test proved nothing")
	}
	t.Logf("%d of %d kills landed inside a write; the file was complete every time", midWrite, try)
}
