package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// staleTemp is how old a leftover temp file must be before a later write
// removes it: older than any write in progress, young enough not to pile up.
const staleTemp = 10 * time.Minute

// File is an output being written: a temp file until Commit.
type File struct {
	path, label string
	mode        os.FileMode
	f           *os.File

	mu   sync.Mutex // Commit and Abort may race: a forced exit aborts from another goroutine
	done bool
}

// Create starts writing path: a temp file in its directory, which will get
// mode when committed. label names the output in a forced exit's message
// (e.g. "--har out.har"). A path that is a directory is refused now rather
// than at the rename.
func Create(path, label string, mode os.FileMode) (*File, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	prefix := TempPrefix(base)
	removeStaleTemps(dir, prefix, time.Now())
	f, err := os.CreateTemp(dir, prefix+"*") // mode 0600 until Commit
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot create a file in %s: %w", dir, err)
	}
	a := &File{path: path, label: label, mode: mode, f: f}
	track(a)
	return a, nil
}

// TempPrefix is how the temp files for a file named base begin.
func TempPrefix(base string) string { return "." + base + ".tmp-" }

// Path is the destination.
func (a *File) Path() string { return a.path }

func (a *File) Write(p []byte) (int, error) { return a.f.Write(p) }

// Commit syncs the data and renames it over the destination, with the
// mode Create was given (an existing destination's mode is not kept: a
// private file stays private).
func (a *File) Commit() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return errors.New("atomicfile: " + a.path + ": already committed or aborted")
	}
	defer untrack(a)
	a.done = true
	tmp := a.f.Name()
	fail := func(err error) error {
		a.f.Close()
		os.Remove(tmp)
		return err
	}
	if err := a.f.Chmod(a.mode); err != nil {
		return fail(err)
	}
	if err := a.f.Sync(); err != nil {
		return fail(err)
	}
	if err := a.f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, a.path); err != nil {
		os.Remove(tmp)
		return err
	}
	// Persist the rename itself; failing to is not worth failing the write.
	if d, err := os.Open(filepath.Dir(a.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Abort removes the temp file; the destination is left as it was. It is a
// no-op after Commit, so `defer f.Abort()` is safe.
func (a *File) Abort() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return
	}
	a.done = true
	untrack(a)
	a.f.Close()
	os.Remove(a.f.Name())
}

// WriteFile replaces path with data atomically.
func WriteFile(path string, data []byte, mode os.FileMode) error {
	f, err := Create(path, path, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

var pending struct {
	mu      sync.Mutex
	files   []*File
	streams []*string // Watch's labels
}

// Watch records an output that is not written atomically (a file streamed
// as the run goes) until done is called, so that AbortAll names it too.
func Watch(label string) (done func()) {
	l := &label
	pending.mu.Lock()
	pending.streams = append(pending.streams, l)
	pending.mu.Unlock()
	return func() {
		pending.mu.Lock()
		defer pending.mu.Unlock()
		if i := slices.Index(pending.streams, l); i >= 0 {
			pending.streams = slices.Delete(pending.streams, i, i+1)
		}
	}
}

func track(a *File) {
	pending.mu.Lock()
	defer pending.mu.Unlock()
	pending.files = append(pending.files, a)
}

func untrack(a *File) {
	pending.mu.Lock()
	defer pending.mu.Unlock()
	if i := slices.Index(pending.files, a); i >= 0 {
		pending.files = slices.Delete(pending.files, i, i+1)
	}
}

// AbortAll removes the temp file of every output not yet committed and
// returns their labels, for a process about to exit at once: it must say
// what it did not write, and leave no temp behind.
func AbortAll() []string {
	pending.mu.Lock()
	files := slices.Clone(pending.files)
	var labels []string
	for _, l := range pending.streams {
		labels = append(labels, *l)
	}
	pending.mu.Unlock()
	for _, a := range files {
		labels = append(labels, a.label)
		a.Abort()
	}
	return labels
}

// removeStaleTemps deletes temp files a killed writer left behind.
func removeStaleTemps(dir, prefix string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > staleTemp {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
