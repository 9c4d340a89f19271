package atomicfile

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func temps(t *testing.T, path string) []string {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(filepath.Dir(path), TempPrefix(filepath.Base(path))+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return left
}

func TestCommitReplacesWithMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(path, "--json out.json", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != "old" {
		t.Fatalf("before Commit the destination reads %q, want the old content", data)
	}
	if _, err := f.Write([]byte("new")); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if string(data) != "new" || st.Mode().Perm() != 0o600 {
		t.Errorf("after Commit: %q mode %v, want \"new\" mode 0600", data, st.Mode().Perm())
	}
	if left := temps(t, path); len(left) != 0 {
		t.Errorf("temps left: %v", left)
	}
	if f.Commit() == nil {
		t.Error("a second Commit succeeded")
	}
}

func TestCreateRefusesBadDestinations(t *testing.T) {
	dir := t.TempDir()
	if _, err := Create(filepath.Join(dir, "missing", "x"), "x", 0o644); err == nil {
		t.Error("a file in a missing directory was accepted")
	}
	if _, err := Create(dir, "x", 0o644); err == nil {
		t.Error("a directory as the destination was accepted")
	}
}

func TestAbortAllNamesAndRemovesPending(t *testing.T) {
	dir := t.TempDir()
	a, err := Create(filepath.Join(dir, "a.har"), "--har a.har", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Create(filepath.Join(dir, "b.json"), "--json b.json", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	done := Watch("--events e.jsonl")
	Watch("--events f.jsonl")()
	got := AbortAll()
	if !slices.Equal(got, []string{"--events e.jsonl", "--har a.har"}) {
		t.Errorf("AbortAll = %v, want the unfinished stream and the uncommitted --har a.har", got)
	}
	done()
	if left := temps(t, a.Path()); len(left) != 0 {
		t.Errorf("temps left: %v", left)
	}
	if _, err := os.Stat(a.Path()); !os.IsNotExist(err) {
		t.Errorf("aborted destination exists: %v", err)
	}
	a.Abort() // after AbortAll: a no-op
	if a.Commit() == nil {
		t.Error("Commit after Abort succeeded")
	}
}

func TestStaleTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.prom")
	stale := filepath.Join(dir, TempPrefix("x.prom")+"123")
	fresh := filepath.Join(dir, TempPrefix("x.prom")+"456")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTemp)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("x 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("a stale temp survived")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a fresh temp (a write in progress) was removed")
	}
}
