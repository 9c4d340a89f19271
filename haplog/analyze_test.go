package haplog

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAnalysisSkipsWhatItCannotOpen: a missing file is a warning and the
// others still count; none opened is ErrNoFiles.
func TestAnalysisSkipsWhatItCannotOpen(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "haproxy.log")
	kept := strings.Replace(rawLine, "--NI", "--VN", 1)
	if err := os.WriteFile(good, []byte(rawLine+"\n"+kept+"\n"+kept+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	a := Analysis{Files: []string{filepath.Join(dir, "missing.log"), good}, Reader: &Reader{Parser: NewParser(nil, time.UTC)},
		Th: Thresholds{MinStickiness: 0.99, MaxErrorRate: 0.01}, Warn: &warn}
	s, err := a.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Files != 2 || s.Stats.Total.Requests != 3 || s.Stats.Total.ByClient('V') != 2 {
		t.Errorf("files %d, requests %d, V %d; want 2, 3, 2", s.Files, s.Stats.Total.Requests, s.Stats.Total.ByClient('V'))
	}
	if !strings.Contains(warn.String(), "missing.log") || !strings.Contains(warn.String(), "(skipped)") {
		t.Errorf("warning %q names no skipped file", warn.String())
	}
	a.Files = a.Files[:1]
	if _, err := a.Run(context.Background()); !errors.Is(err, ErrNoFiles) {
		t.Errorf("no file opened: %v, want ErrNoFiles", err)
	}
}

func TestLiveLine(t *testing.T) {
	var prev, cur Counts
	got := LiveLine(time.Date(2026, 12, 3, 15, 4, 5, 0, time.UTC), &prev, &cur)
	if want := "15:04:05  0 requests  sticky -  V 0  I 0  D 0  E 0  O 0  N 0  5xx 0"; got != want {
		t.Errorf("LiveLine = %q, want %q", got, want)
	}
}
