package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
)

// Source is one saved run: a name for messages and labels, and a way to
// read it. A replay reads a source more than once (the summary, then the
// HAR's pages and entries), so events never have to be held in memory.
type Source struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// FileSource reads the events file at path.
func FileSource(path string) Source {
	return Source{Name: path, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

// Vantage is one of the runs a merged report is made of.
type Vantage struct {
	Source      string    `json:"source"`
	Targets     []string  `json:"targets"`
	Seed        uint64    `json:"seed"`
	Started     time.Time `json:"started"`
	DurationS   float64   `json:"duration_s"`
	Sessions    int       `json:"sessions"`
	Control     int       `json:"control"`
	Interrupted bool      `json:"interrupted,omitempty"`
	Command     string    `json:"command,omitempty"`
}

// Replay rebuilds reports from events files. Several files merge into one
// report, as from probes run on several machines at once: session ids are
// namespaced per file (file k's session i becomes id offset_k + i inside
// the summary, and samples name their file), frontends and backends are
// kept, so the same backend seen from two places counts once.
type Replay struct {
	files    []*replayFile
	warnings []string
	judged   *Options // Rejudge's thresholds; nil: the file's
	// annotated: the warnings about merged trailers were given.
	annotated bool
}

type replayFile struct {
	src     Source
	label   string
	header  EventsHeader
	offset  int
	trailer *EventsTrailer
	lastEnd time.Time
	read    bool           // trailer and lastEnd are known
	torn    bool           // the last line was cut short and dropped
	ahead   *EventsTrailer // the trailer read ahead of the events (replay_lb.go)
	peeked  bool           // ahead is known
}

// OpenReplay reads the headers of the events files at paths.
func OpenReplay(paths ...string) (*Replay, error) {
	srcs := make([]Source, len(paths))
	for i, p := range paths {
		srcs[i] = FileSource(p)
	}
	return NewReplay(srcs...)
}

// NewReplay reads the header of every source and checks that they can be
// merged.
func NewReplay(srcs ...Source) (*Replay, error) {
	if len(srcs) == 0 {
		return nil, errors.New("report: no events file given")
	}
	rp := &Replay{}
	offset := 0
	for _, src := range srcs {
		rc, err := src.Open()
		if err != nil {
			return nil, err
		}
		dec, err := NewEventDecoder(rc, src.Name)
		rc.Close()
		if err != nil {
			return nil, err
		}
		h := dec.Header()
		rp.files = append(rp.files, &replayFile{src: src, header: h, offset: offset})
		offset += h.Sessions + h.Control
		if offset > maxEventSessions {
			return nil, fmt.Errorf("%w: %s: more than %d sessions in all", ErrEvents, src.Name, maxEventSessions)
		}
	}
	rp.label()
	first := rp.files[0].header
	for _, f := range rp.files[1:] {
		if f.header.Options != first.Options {
			rp.warn("%s was judged with other options (%+v) than %s (%+v); the report uses the first file's",
				f.label, f.header.Options, rp.files[0].label, first.Options)
		}
		if f.header.Run.Token != first.Run.Token || f.header.Run.Identify != first.Run.Identify {
			rp.warn("%s used --token %s --id %s, %s --token %s --id %s: the merged report mixes them",
				f.label, f.header.Run.Token, f.header.Run.Identify, rp.files[0].label, first.Run.Token, first.Run.Identify)
		}
	}
	return rp, nil
}

// label names each file by its base name, or by the path as given when two
// base names are alike.
func (rp *Replay) label() {
	count := map[string]int{}
	for _, f := range rp.files {
		count[filepath.Base(f.src.Name)]++
	}
	seen := map[string]int{}
	for _, f := range rp.files {
		f.label = filepath.Base(f.src.Name)
		if count[f.label] > 1 {
			f.label = f.src.Name
		}
		if seen[f.label]++; seen[f.label] > 1 {
			f.label = fmt.Sprintf("%s#%d", f.label, seen[f.label])
		}
	}
}

func (rp *Replay) warn(format string, a ...any) {
	rp.warnings = append(rp.warnings, fmt.Sprintf(format, a...))
}

// Warnings are what the caller should tell the user: merged files that
// disagree, files without a trailer. Complete after Report.
func (rp *Replay) Warnings() []string { return rp.warnings }

// Options are the first file's.
func (rp *Replay) Options() Options { return rp.files[0].header.Options }

// Merged reports whether the replay merges several files.
func (rp *Replay) Merged() bool { return len(rp.files) > 1 }

// Each calls fn with every event of every file in order, session ids
// namespaced per file. The event is reused after fn returns.
func (rp *Replay) Each(fn func(*probe.Event) error) error {
	for _, f := range rp.files {
		if err := f.each(fn); err != nil {
			return err
		}
		if !f.read {
			f.read = true
			if f.torn {
				rp.warn("%s ends in a line cut short (the probe was killed while writing it); that line was dropped", f.label)
			}
			if f.trailer == nil {
				rp.warn("%s has no trailer line: the run did not finish (killed?); it is reported as interrupted", f.label)
			}
		}
	}
	return nil
}

func (f *replayFile) each(fn func(*probe.Event) error) error {
	rc, err := f.src.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	dec, err := NewEventDecoder(rc, f.src.Name)
	if err != nil {
		return err
	}
	var ev probe.Event
	for {
		err := dec.Decode(&ev)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		ev.Session += f.offset
		if err := fn(&ev); err != nil {
			return err
		}
	}
	if t, ok := dec.Trailer(); ok {
		f.trailer = &t
	}
	f.lastEnd = dec.LastEnd()
	f.torn = dec.Torn()
	return nil
}

// Origin maps a namespaced session id back to its file's label and its id
// in that file. The label is "" for a single file.
func (rp *Replay) Origin(id int) (string, int) {
	if !rp.Merged() {
		return "", id
	}
	for i := len(rp.files) - 1; i >= 0; i-- {
		if f := rp.files[i]; id >= f.offset {
			return f.label, id - f.offset
		}
	}
	return "", id
}

// Report reads every event into a summary and closes it with the run the
// files describe, and puts back what the trailers kept: what the LB said
// (also the LB's word on backend losses while the events are judged) and
// the HAProxy config join. A single complete file gives exactly the live
// run's report.
func (rp *Replay) Report() (*Report, *Summary, error) {
	s := NewSummary(rp.judgeOptions())
	if st := rp.serverStates(); st != nil {
		s.SetServerStates(st)
	}
	if err := rp.Each(func(ev *probe.Event) error { s.Add(ev); return nil }); err != nil {
		return nil, nil, err
	}
	rep := s.Close(rp.run())
	if rp.judged != nil {
		if rep.Rejudged = ThresholdChanges(rp.Options(), *rp.judged); len(rep.Rejudged) > 0 {
			rep.Reasons = append(rep.Reasons, rejudgedReason(rep.Rejudged))
		}
	}
	rp.annotate(rep)
	if rp.Merged() {
		for _, sm := range rep.Samples {
			sm.Source, sm.Session = rp.Origin(sm.Session)
		}
		if bl := rep.BackendLoss; bl != nil {
			for i := range bl.Moves {
				bl.Moves[i].Source, bl.Moves[i].Session = rp.Origin(bl.Moves[i].Session)
			}
		}
	}
	return rep, s, nil
}

// run of one file: the trailer's, or for a file cut short the header's,
// interrupted, lasting until its last response.
func (f *replayFile) run() Run {
	if f.trailer != nil {
		return f.trailer.Run
	}
	run := f.header.Run
	run.Interrupted = true
	if !f.lastEnd.IsZero() && f.lastEnd.After(run.Started) {
		run.DurationS = f.lastEnd.Sub(run.Started).Round(time.Millisecond).Seconds()
	}
	return run
}

// run merges the files' runs: every frontend, the earliest start to the
// latest end, interrupted or truncated if any was; the first file's
// identity, token and connection policy; each file as a Vantage.
func (rp *Replay) run() Run {
	if !rp.Merged() {
		return rp.files[0].run()
	}
	out := rp.files[0].run()
	out.Command = ""
	var end time.Time
	for i, f := range rp.files {
		r := f.run()
		if i > 0 {
			for _, t := range r.Targets {
				if !slices.Contains(out.Targets, t) {
					out.Targets = append(out.Targets, t)
				}
			}
			if r.Started.Before(out.Started) {
				out.Started = r.Started
			}
			out.Interrupted = out.Interrupted || r.Interrupted
			out.Truncated = out.Truncated || r.Truncated
			if r.TokenName != out.TokenName {
				out.TokenName = ""
			}
		}
		if e := r.Started.Add(time.Duration(r.DurationS * float64(time.Second))); e.After(end) {
			end = e
		}
		out.Vantages = append(out.Vantages, Vantage{
			Source: f.label, Targets: r.Targets, Seed: r.Seed, Started: r.Started, DurationS: r.DurationS,
			Sessions: f.header.Sessions, Control: f.header.Control, Interrupted: r.Interrupted, Command: r.Command,
		})
	}
	out.DurationS = end.Sub(out.Started).Round(time.Millisecond).Seconds()
	return out
}

// HAROptions are the options for a HAR of this replay: its creator and
// redaction as the files record them, and merged ids mapped back.
func (rp *Replay) HAROptions(all bool) HAROptions {
	o := HAROptions{All: all, Creator: rp.files[0].header.Creator, Redacted: true}
	for _, f := range rp.files {
		o.Redacted = o.Redacted && f.header.Redacted
	}
	if rp.Merged() {
		o.Origin = rp.Origin
	}
	return o
}
