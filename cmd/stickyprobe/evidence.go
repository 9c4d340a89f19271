package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// eventSink writes the events file: the user's --events (a file or
// stdout), and when --har needs a file to read back and --events is not
// one, a private temporary file. The HAR is written from that file after
// the run, so headers never accumulate in memory (see report/har.go).
type eventSink struct {
	enc     *report.EventEncoder
	flushes []func() error
	closers []*os.File
	path    string // the file the HAR is read from; "" when no HAR
	temp    bool
	err     error // the first write error; later events are dropped
}

// openSink opens what out asks for, or returns nil when nothing does.
func openSink(out outputs, h report.EventsHeader) (*eventSink, error) {
	if out.eventsPath == "" && out.harPath == "" {
		return nil, nil
	}
	s := &eventSink{}
	var writers []io.Writer
	add := func(w io.Writer) {
		bw := bufio.NewWriterSize(w, 64<<10)
		writers = append(writers, bw)
		s.flushes = append(s.flushes, bw.Flush)
	}
	switch out.eventsPath {
	case "":
	case "-":
		add(out.stdout)
	default:
		f, err := createOutput(out.eventsPath, !out.redactor.Enabled())
		if err != nil {
			return nil, fmt.Errorf("--events: %w", err)
		}
		s.closers = append(s.closers, f)
		add(f)
		s.path = out.eventsPath
	}
	if out.harPath != "" && s.path == "" {
		f, err := os.CreateTemp("", "stickyprobe-events-*.jsonl") // 0600: it holds headers, redacted or not
		if err != nil {
			s.cleanup()
			return nil, fmt.Errorf("--har: a temporary events file: %w", err)
		}
		s.closers = append(s.closers, f)
		add(f)
		s.path, s.temp = f.Name(), true
	}
	if out.harPath == "" {
		s.path = ""
	}
	enc, err := report.NewEventEncoder(io.MultiWriter(writers...), h)
	if err != nil {
		s.cleanup()
		return nil, fmt.Errorf("--events: %w", err)
	}
	s.enc = enc
	return s, nil
}

func (s *eventSink) add(ev *probe.Event) {
	if s == nil || s.err != nil {
		return
	}
	s.err = s.enc.Encode(ev)
}

// close writes the trailer with the run as the report gets it, and closes
// the files (a temporary one stays until cleanup, for the HAR).
func (s *eventSink) close(run report.Run) error {
	if s == nil {
		return nil
	}
	if s.err == nil {
		s.err = s.enc.Close(run)
	}
	for _, flush := range s.flushes {
		if err := flush(); err != nil && s.err == nil {
			s.err = err
		}
	}
	for _, f := range s.closers {
		if err := f.Close(); err != nil && s.err == nil {
			s.err = err
		}
	}
	s.closers = nil
	return s.err
}

// cleanup removes the temporary file, if any.
func (s *eventSink) cleanup() {
	if s == nil {
		return
	}
	for _, f := range s.closers {
		f.Close()
	}
	if s.temp {
		os.Remove(s.path)
	}
}

// writeHAR writes the HAR from the events file the sink wrote, with the
// live summary choosing the sessions: the same code and input as
// `stickyprobe report --format har`.
func writeHAR(path string, all, private bool, summary *report.Summary, eventsPath string) error {
	rp, err := report.OpenReplay(eventsPath)
	if err != nil {
		return err
	}
	return writeFile(path, private, func(w io.Writer) error { return report.HAR(w, summary, rp, rp.HAROptions(all)) })
}

// writeFile creates path and writes it with render; private files (they
// hold secrets in clear: --show-secrets) are readable by the owner only.
func writeFile(path string, private bool, render func(io.Writer) error) error {
	f, err := createOutput(path, private)
	if err != nil {
		return err
	}
	if err := render(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// createOutput creates (or truncates) an output file: mode 0644 as
// os.Create gives it, or 0600 when private, an existing file included.
func createOutput(path string, private bool) (*os.File, error) {
	mode := os.FileMode(0o644)
	if private {
		mode = 0o600
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return nil, err
	}
	if private {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}
