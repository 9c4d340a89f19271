package pipeline

import (
	"bytes"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/stickyprobe/stickyprobe/probe"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// The stop counts 5xx answers as failures, and only a run's first
// requests: one success before them and the run goes on.
func TestStopperCountsFiveHundreds(t *testing.T) {
	for _, tt := range []struct {
		name  string
		first probe.ErrorKind
		stop  bool
	}{{"refused", probe.ErrRefused, true}, {"5xx", probe.ErrHTTP5xx, true}, {"a success first", "", false}} {
		var cause error
		var w bytes.Buffer
		s := &stopper{cancel: func(err error) { cause = err }, w: &w}
		s.Add(&probe.Event{Error: tt.first, Status: 503})
		for i := 1; i < UnreachableAfter+5; i++ {
			s.Add(&probe.Event{Error: probe.ErrHTTP5xx, Status: 503})
		}
		var res Result
		s.Close(&res)
		if stopped := errors.Is(cause, ErrUnreachable); stopped != tt.stop || res.Unreachable != tt.stop {
			t.Errorf("%s: stopped %v (unreachable %v), want %v", tt.name, stopped, res.Unreachable, tt.stop)
		}
		if tt.stop && strings.Count(w.String(), "stopping") != 1 {
			t.Errorf("%s: message %q, want one", tt.name, w.String())
		}
	}
}

// Events reach the file in whole lines only, so a killed probe leaves a
// file that ends on a line boundary.
func TestLineWriterWritesWholeLines(t *testing.T) {
	var w recordingWriter
	lw := newLineWriter(&w)
	line := strings.Repeat("x", 999) + "\n"
	for range 200 {
		if _, err := lw.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	big := strings.Repeat("y", 2*lineBufferSize) + "\n"
	lw.Write([]byte(big))
	lw.Flush()
	total := 0
	for i, chunk := range w.writes {
		if !strings.HasSuffix(chunk, "\n") || len(chunk) > 2*lineBufferSize+1 {
			t.Fatalf("write %d: %d bytes, not whole lines", i, len(chunk))
		}
		total += len(chunk)
	}
	if total != 200*len(line)+len(big) || len(w.writes) < 4 {
		t.Errorf("%d bytes in %d writes", total, len(w.writes))
	}
}

type recordingWriter struct{ writes []string }

func (r *recordingWriter) Write(p []byte) (int, error) {
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

// A closed stdout pipe is reported once and then swallowed; other errors
// pass through.
func TestStdoutGuard(t *testing.T) {
	var stderr bytes.Buffer
	g := StdoutGuard(failingWriter{syscall.EPIPE}, &stderr)
	for range 3 {
		if n, err := g.Write([]byte("x\n")); err != nil || n != 2 {
			t.Fatalf("write after EPIPE: %d, %v", n, err)
		}
	}
	if strings.Count(stderr.String(), "broken pipe") != 1 {
		t.Errorf("stderr %q: want one message", stderr.String())
	}
	if _, err := StdoutGuard(failingWriter{syscall.ENOSPC}, &stderr).Write([]byte("x")); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("ENOSPC: %v, want it passed through", err)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

// When the first requests all failed on the probe's own machine, the stop
// says so and names what to change, not the target.
func TestStopperLocalFailuresBlameTheProbe(t *testing.T) {
	var w bytes.Buffer
	s := &stopper{cancel: func(error) {}, w: &w}
	for range UnreachableAfter {
		s.Add(&probe.Event{Error: probe.ErrLocal, Detail: "socket: too many open files"})
	}
	if msg := w.String(); !strings.Contains(msg, "failed on this machine") || !strings.Contains(msg, "ulimit -n") || strings.Contains(msg, "(local:") {
		t.Errorf("message %q: want the probe's own machine blamed, with what to change", msg)
	}
}
