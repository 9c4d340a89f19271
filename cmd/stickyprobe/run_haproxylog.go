package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/stickyprobe/stickyprobe/haplog"
	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/urfave/cli/v2"
)

func runHAProxyLogFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "haproxy-log", Category: catLB,
		Usage: "HAProxy's HTTP log `FILE` (repeatable, one per LB node): after the report, show what HAProxy recorded for each broken session's switch, " +
			"as `stickyprobe logs --events` does; only the lines the run added are read"}
}

// maxKeptSwitches bounds the switch requests a run remembers for the join.
const maxKeptSwitches = 10000

// runHAProxyLog remembers, while the run goes, the requests that switched
// backend (only those, so memory follows the breakage, not the run), and
// the size each log had at the start, so only the run's lines are read.
type runHAProxyLog struct {
	files  []string
	starts []int64
	stdout io.Writer
	stderr io.Writer

	mu   sync.Mutex
	pins map[int]string
	kept []probe.Event
}

// newRunHAProxyLog reads --haproxy-log; nil when the flag is not set. As
// a sink of the run it remembers the switches, and prints the join once
// the report is out.
func newRunHAProxyLog(c *cli.Context) (*runHAProxyLog, error) {
	files := c.StringSlice("haproxy-log")
	if len(files) == 0 {
		return nil, nil
	}
	h := &runHAProxyLog{files: files, stdout: c.App.Writer, stderr: c.App.ErrWriter, pins: map[int]string{}}
	if c.String("json") == "-" || c.String("events") == "-" {
		h.stdout = c.App.ErrWriter // stdout is JSON
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("--haproxy-log: %v", err)
		}
		h.starts = append(h.starts, st.Size())
	}
	return h, nil
}

// Close prints the join after the run's own report.
func (h *runHAProxyLog) Close(res *pipeline.Result) error {
	h.finish(res.Report)
	return nil
}

// Add remembers ev when it is a switch.
func (h *runHAProxyLog) Add(ev *probe.Event) {
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

// finish reads what the logs gained during the run and prints the join.
func (h *runHAProxyLog) finish(rep *report.Report) {
	if h == nil || rep == nil {
		return
	}
	j, _ := haplog.NewJoin(rep, func(fn func(*probe.Event) error) error {
		for i := range h.kept {
			_ = fn(&h.kept[i])
		}
		return nil
	})
	rd := &haplog.Reader{Parser: haplog.NewParser(nil, nil)}
	for i, name := range h.files {
		if err := h.readFrom(rd, name, h.starts[i], j); err != nil {
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
func (h *runHAProxyLog) readFrom(rd *haplog.Reader, name string, start int64, j *haplog.Join) error {
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
