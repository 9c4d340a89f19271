package haplog

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// maxKeptSwitches bounds the switch requests a RunLog remembers.
const maxKeptSwitches = 10000

// RunLog joins a probe run with what HAProxy logged during it, without
// an events file: while the run goes it remembers the requests that
// switched backend (only those, so memory follows the breakage, not the
// run), and the size each log had at the start, so only the run's lines
// are read. Add it as a sink of the run (pipeline.Options.Sinks, with a
// Close that calls Finish).
type RunLog struct {
	files  []string
	starts []int64
	stdout io.Writer
	stderr io.Writer

	mu   sync.Mutex
	pins map[int]string
	kept []probe.Event
}

// NewRunLog notes the size of each of files (one per LB node) now; the
// join is printed on stdout, warnings on stderr.
func NewRunLog(files []string, stdout, stderr io.Writer) (*RunLog, error) {
	h := &RunLog{files: files, stdout: stdout, stderr: stderr, pins: map[int]string{}}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		h.starts = append(h.starts, st.Size())
	}
	return h, nil
}

// Add remembers ev when it is a switch.
func (h *RunLog) Add(ev *probe.Event) {
	if ev.Control || ev.Backend == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	pin, ok := h.pins[ev.Session]
	if !ok {
		h.pins[ev.Session] = ev.Backend
		return
	}
	if pin != ev.Backend && len(h.kept) < maxKeptSwitches {
		h.kept = append(h.kept, probe.Event{Session: ev.Session, Seq: ev.Seq, Local: ev.Local, Start: ev.Start, Latency: ev.Latency})
	}
}

// Finish reads what the logs gained during the run and prints the join
// with rep, the run's report; a log that cannot be read is a warning.
func (h *RunLog) Finish(rep *report.Report) {
	if h == nil || rep == nil {
		return
	}
	j, _ := NewJoin(rep, func(fn func(*probe.Event) error) error {
		for i := range h.kept {
			_ = fn(&h.kept[i])
		}
		return nil
	})
	rd := &Reader{Parser: NewParser(nil, nil)}
	for i, name := range h.files {
		if err := readFrom(rd, name, h.starts[i], j); err != nil {
			fmt.Fprintf(h.stderr, "stickyprobe: warning: --haproxy-log %v\n", err)
		}
	}
	fmt.Fprintf(h.stdout, "\nHAProxy's log during the run: %d requests, %d unreadable lines\n", rd.Requests, rd.Unreadable)
	if err := j.Write(h.stdout); err != nil {
		fmt.Fprintf(h.stderr, "stickyprobe: warning: %v\n", err)
	}
}

// readFrom waits (bounded) for the log to settle, since HAProxy writes a
// line once its request ends, then reads from start; a file smaller than
// it was (rotated or truncated) is read whole.
func readFrom(rd *Reader, name string, start int64, j *Join) error {
	last := int64(-1)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		st, err := os.Stat(name)
		if err != nil {
			return err
		}
		if st.Size() == last {
			break
		}
		last = st.Size()
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if last >= start {
		if _, err := f.Seek(start, io.SeekStart); err != nil {
			return err
		}
	}
	return rd.Read(name, f, j.Add)
}
