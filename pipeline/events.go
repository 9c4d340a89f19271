package pipeline

import (
	"fmt"
	"io"
	"os"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// eventsSink writes the events file: the user's --events (a file or
// stdout), and when the HAR needs a file to read back and --events is not
// one, a private temporary file. The HAR is written from that file after
// the run, so headers never accumulate in memory (see report/har.go).
type eventsSink struct {
	enc     *report.EventEncoder
	lines   []*lineWriter
	file    *os.File // the user's events file, nil for stdout or none
	temp    *os.File // the HAR's private copy, when the user's is not a file
	harFrom string   // the file the HAR is read from; "" when no HAR
	name    string   // for messages: the path, or "-"
	done    func()   // the file is complete: a forced exit no longer names it
	err     error    // the first write error; later events are dropped
}

// newEventsSink starts the events file(s) op opened, or returns nil when
// no output needs the events.
func newEventsSink(op *opened, o Outputs, stdout io.Writer, h report.EventsHeader) (*eventsSink, error) {
	har := o.Files["har"] != ""
	if o.Events == "" && !har {
		return nil, nil
	}
	s := &eventsSink{file: op.events, name: o.Events, done: op.eventsDone}
	var writers []io.Writer
	add := func(w io.Writer) {
		lw := newLineWriter(w)
		s.lines = append(s.lines, lw)
		writers = append(writers, lw)
	}
	switch {
	case o.Events == "-":
		add(stdout)
	case op.events != nil:
		add(op.events)
		s.harFrom = o.Events
	}
	if har && s.harFrom == "" {
		f, err := os.CreateTemp("", "stickyprobe-events-*.jsonl") // 0600: it holds headers, redacted or not
		if err != nil {
			return nil, fmt.Errorf("--har: a temporary events file: %w", err)
		}
		s.temp = f
		add(f)
		s.harFrom = f.Name()
	}
	if !har {
		s.harFrom = ""
	}
	enc, err := report.NewEventEncoder(io.MultiWriter(writers...), h)
	if err != nil {
		s.cleanup()
		return nil, fmt.Errorf("--events: %w", err)
	}
	s.enc = enc
	return s, nil
}

func (s *eventsSink) Add(ev *probe.Event) {
	if s.err != nil {
		return
	}
	s.err = s.enc.Encode(ev)
}

// Close writes the trailer with the run as the report gets it, and what
// the report was annotated with (the LB's state, the config join), and
// closes the files (a temporary one stays until cleanup, for the HAR).
func (s *eventsSink) Close(res *Result) error {
	if s.err == nil {
		s.err = s.enc.CloseReport(res.Run, res.Report)
	}
	for _, lw := range s.lines {
		if err := lw.Flush(); err != nil && s.err == nil {
			s.err = err
		}
	}
	for _, f := range []*os.File{s.file, s.temp} {
		if f == nil {
			continue
		}
		if err := f.Close(); err != nil && s.err == nil {
			s.err = err
		}
	}
	if s.err != nil {
		return fmt.Errorf("writing events to %s: %w", OrDash(s.name), s.err)
	}
	if s.done != nil {
		s.done()
	}
	return nil
}

// cleanup removes the temporary file, if any.
func (s *eventsSink) cleanup() {
	if s == nil || s.temp == nil {
		return
	}
	s.temp.Close()
	os.Remove(s.temp.Name())
}

// lineWriter buffers whole lines and writes only whole lines: a probe
// killed mid-run (SIGKILL, the OOM killer) leaves an events file that ends
// on a line boundary, short of what was buffered, but replayable. The
// encoder hands it one complete line per Write.
type lineWriter struct {
	w   io.Writer
	buf []byte
}

const lineBufferSize = 64 << 10

func newLineWriter(w io.Writer) *lineWriter {
	return &lineWriter{w: w, buf: make([]byte, 0, lineBufferSize)}
}

func (l *lineWriter) Write(p []byte) (int, error) {
	if len(l.buf)+len(p) > lineBufferSize && len(l.buf) > 0 {
		if err := l.Flush(); err != nil {
			return 0, err
		}
	}
	if len(p) >= lineBufferSize {
		return l.w.Write(p) // a line bigger than the buffer goes in one write
	}
	l.buf = append(l.buf, p...)
	return len(p), nil
}

// Flush writes what is buffered: whole lines, in one write.
func (l *lineWriter) Flush() error {
	if len(l.buf) == 0 {
		return nil
	}
	_, err := l.w.Write(l.buf)
	l.buf = l.buf[:0]
	return err
}
