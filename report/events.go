package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
)

// An events file (--events) is JSON Lines: a header line, one line per
// request (a probe.Event), and a trailer line. The header and trailer carry
// what the report needs besides the events, so `stickyprobe report` can
// rebuild the live run's report from the file alone:
//
//	{"stickyprobe_events":1,"creator":"stickyprobe v1.2.0","sessions":50,"control_sessions":5,"redacted":true,"options":{...},"run":{...}}
//	{"session":3,"seq":0,"frontend":"http://lb.example/", ...}
//	...
//	{"stickyprobe_events_end":1,"events":550,"run":{...}}
//
// The header's run is what is known at the start (no duration); the
// trailer's is the run exactly as the live report got it. A file without
// a trailer (the probe was killed) still replays, as an interrupted run.
// Fields are only ever added within a version; readers ignore unknown ones.

// EventsVersion is the version of the events file format.
const EventsVersion = 1

// ErrEvents is wrapped by every error about the content of an events file.
var ErrEvents = errors.New("report: invalid events file")

// Limits that keep a garbage or hostile file from exhausting memory: the
// summary keeps state per session id.
const (
	maxEventSessions = 2 << 20 // scenarios.MaxSessions measured sessions and as many control ones
	maxEventSeq      = 1 << 20
	maxEventLine     = 4 << 20
)

// EventsHeader is the first line of an events file.
type EventsHeader struct {
	Version  int     `json:"stickyprobe_events"`
	Creator  string  `json:"creator"`          // "stickyprobe VERSION"
	Sessions int     `json:"sessions"`         // measured sessions: ids 0..sessions-1
	Control  int     `json:"control_sessions"` // control sessions: the ids after them
	Redacted bool    `json:"redacted"`         // false: written with --show-secrets
	Options  Options `json:"options"`          // how the summary judges
	Run      Run     `json:"run"`              // the run as known at its start
}

// EventsTrailer is the last line of a complete events file. What the
// LB said and what its config says are known only once the run is over,
// so they are here, not in the header; files written before they were
// added replay without them, as before.
type EventsTrailer struct {
	End    int   `json:"stickyprobe_events_end"`
	Events int64 `json:"events"` // event lines in the file
	Run    Run   `json:"run"`    // the run exactly as the live report got it
	// LBState is the report's lb_state as the live run had it
	// (--haproxy-socket): shown as recorded, and the LB's word on
	// backend losses when the replay judges them.
	LBState *LBState `json:"lb_state,omitempty"`
	// ConfigJoin is what --haproxy-config read: the replay ties it to
	// its own causes, as the live run did to its.
	ConfigJoin *ConfigJoin `json:"haproxy_config_join,omitempty"`
}

// optionsJSON is how Options are saved. The conversion from Options
// stops compiling when Options gains a field: add it here too, or a saved
// run would be judged differently on replay.
type optionsJSON struct {
	MinStickiness   float64    `json:"min_stickiness"`
	MaxErrorRate    float64    `json:"max_error_rate"`
	ExpectSpread    bool       `json:"expect_spread,omitempty"`
	CookieToken     bool       `json:"cookie_token,omitempty"`
	SamplesPerCause int        `json:"samples_per_cause,omitempty"`
	SourceToken     bool       `json:"source_token,omitempty"`
	OnBackendLoss   LossPolicy `json:"on_backend_loss,omitempty"`
	MinBackends     int        `json:"min_backends,omitempty"`
	MaxImbalance    float64    `json:"max_imbalance,omitempty"`
}

func (o Options) MarshalJSON() ([]byte, error) { return json.Marshal(optionsJSON(o)) }

func (o *Options) UnmarshalJSON(data []byte) error {
	var j optionsJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*o = Options(j)
	return nil
}

// EventEncoder writes an events file. The caller buffers and closes w.
type EventEncoder struct {
	enc    *json.Encoder
	events int64
}

// NewEventEncoder writes the header and returns the encoder.
func NewEventEncoder(w io.Writer, h EventsHeader) (*EventEncoder, error) {
	h.Version = EventsVersion
	e := &EventEncoder{enc: json.NewEncoder(w)}
	return e, e.enc.Encode(h)
}

// Encode writes one event.
func (e *EventEncoder) Encode(ev *probe.Event) error {
	e.events++
	return e.enc.Encode(ev)
}

// Close writes the trailer with the run as the report got it.
func (e *EventEncoder) Close(run Run) error { return e.CloseReport(run, nil) }

// CloseReport writes the trailer with the run as the report got it, and
// what rep (the live report, nil for none) has that the events do not
// give back: what the LB said, and the config join its HAProxyConfig was
// made from.
func (e *EventEncoder) CloseReport(run Run, rep *Report) error {
	t := EventsTrailer{End: EventsVersion, Events: e.events, Run: run}
	if rep != nil {
		t.LBState = rep.LBState
		if rep.HAProxyConfig != nil {
			t.ConfigJoin = rep.HAProxyConfig.join
		}
	}
	return e.enc.Encode(t)
}

// EventDecoder reads an events file and checks every line; errors name the
// file and line.
type EventDecoder struct {
	name    string
	sc      *bufio.Scanner
	line    int
	header  EventsHeader
	trailer *EventsTrailer
	events  int64
	lastSeq []int32 // per session: last seq + 1, 0 for none yet
	lastEnd time.Time
	// unterminated: the line just scanned is the file's last and has no
	// newline; torn: such a line did not parse and was dropped.
	unterminated, torn bool
}

// eventLine decodes any line once: an event, or the header or trailer
// (told apart by their version keys).
type eventLine struct {
	probe.Event
	Header *int `json:"stickyprobe_events"`
	End    *int `json:"stickyprobe_events_end"`
}

// NewEventDecoder reads and checks the header of the events file r, called
// name in errors.
func NewEventDecoder(r io.Reader, name string) (*EventDecoder, error) {
	d := &EventDecoder{name: name, sc: bufio.NewScanner(r)}
	d.sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	d.sc.Split(d.scanLine)
	data, err := d.next()
	if err == io.EOF {
		return nil, d.errorf("empty file: not a stickyprobe events file")
	}
	if err != nil {
		return nil, err
	}
	var l eventLine
	if err := json.Unmarshal(data, &l); err != nil || l.Header == nil {
		return nil, d.errorf("no header line: not a stickyprobe events file (written with --events by stickyprobe run)")
	}
	if err := json.Unmarshal(data, &d.header); err != nil {
		return nil, d.errorf("header: %v", err)
	}
	h := d.header
	switch {
	case h.Version > EventsVersion:
		return nil, d.errorf("events format version %d: written by a newer stickyprobe (this one reads version %d)", h.Version, EventsVersion)
	case h.Version < 1:
		return nil, d.errorf("events format version %d: want 1", h.Version)
	case h.Sessions < 0 || h.Control < 0 || h.Sessions+h.Control > maxEventSessions:
		return nil, d.errorf("header: %d sessions and %d control sessions: want 0..%d in all", h.Sessions, h.Control, maxEventSessions)
	case !(h.Options.MinStickiness >= 0 && h.Options.MinStickiness <= 1 && h.Options.MaxErrorRate >= 0 && h.Options.MaxErrorRate <= 1):
		return nil, d.errorf("header: thresholds %+v: want fractions between 0 and 1", h.Options)
	case h.Options.SamplesPerCause < 0 || h.Options.SamplesPerCause > 1000:
		return nil, d.errorf("header: samples_per_cause %d: want 0..1000", h.Options.SamplesPerCause)
	}
	return d, nil
}

// Header is the file's header line.
func (d *EventDecoder) Header() EventsHeader { return d.header }

// Trailer is the file's trailer, once Decode returned io.EOF; ok is false
// for a file that ends without one (the probe was killed).
func (d *EventDecoder) Trailer() (t EventsTrailer, ok bool) {
	if d.trailer == nil {
		return EventsTrailer{}, false
	}
	return *d.trailer, true
}

// LastEnd is the latest start+latency of the events read so far.
func (d *EventDecoder) LastEnd() time.Time { return d.lastEnd }

// Decode reads the next event into ev; io.EOF at the end of the file.
func (d *EventDecoder) Decode(ev *probe.Event) error {
	for {
		data, err := d.next()
		if err != nil {
			return err
		}
		if d.trailer != nil {
			return d.errorf("a line after the trailer")
		}
		var l eventLine
		if err := json.Unmarshal(data, &l); err != nil {
			if d.unterminated {
				// The writer was killed mid-line (SIGKILL, the OOM
				// killer): what came before is whole and replays.
				d.torn = true
				return io.EOF
			}
			return d.errorf("%v", err)
		}
		switch {
		case l.Header != nil:
			return d.errorf("a second header line (concatenated files? give them as separate arguments)")
		case l.End != nil:
			var t EventsTrailer
			if err := json.Unmarshal(data, &t); err != nil {
				return d.errorf("trailer: %v", err)
			}
			if t.Events != d.events {
				return d.errorf("the trailer counts %d events, the file has %d: it was edited or cut", t.Events, d.events)
			}
			d.trailer = &t
			continue
		}
		if err := d.check(&l.Event); err != nil {
			return err
		}
		d.events++
		if end := l.Start.Add(l.Latency); end.After(d.lastEnd) {
			d.lastEnd = end
		}
		*ev = l.Event
		return nil
	}
}

// Torn reports whether the file ended in a line cut short, which Decode
// dropped: the probe was killed while writing it.
func (d *EventDecoder) Torn() bool { return d.torn }

// scanLine is bufio.ScanLines, noting whether the line is the last one
// and lacks its newline.
func (d *EventDecoder) scanLine(data []byte, atEOF bool) (int, []byte, error) {
	adv, tok, err := bufio.ScanLines(data, atEOF)
	d.unterminated = atEOF && tok != nil && adv == len(data) && data[len(data)-1] != '\n'
	return adv, tok, err
}

// next returns the next non-blank line.
func (d *EventDecoder) next() ([]byte, error) {
	for d.sc.Scan() {
		d.line++
		if data := d.sc.Bytes(); len(bytesTrimSpace(data)) > 0 {
			return data, nil
		}
	}
	if err := d.sc.Err(); err != nil {
		d.line++
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, d.errorf("line longer than %d bytes", maxEventLine)
		}
		return nil, fmt.Errorf("%s: %w", d.name, err)
	}
	return nil, io.EOF
}

func bytesTrimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func (d *EventDecoder) errorf(format string, a ...any) error {
	return fmt.Errorf("%w: %s:%d: %s", ErrEvents, d.name, max(d.line, 1), fmt.Sprintf(format, a...))
}

var (
	knownErrors = []probe.ErrorKind{probe.ErrTimeout, probe.ErrRefused, probe.ErrReset, probe.ErrEOF, probe.ErrDNS,
		probe.ErrTLS, probe.ErrProtocol, probe.ErrHTTP5xx, probe.ErrCanceled, probe.ErrOther,
		probe.ErrLocal}
	knownRefusals = []probe.Refusal{probe.RefusedDomain, probe.RefusedPublicSuffix, probe.RefusedSecure,
		probe.RefusedPath, probe.RefusedExpired, probe.RefusedInvalid,
		probe.RefusedTooMany, probe.RefusedTooLarge, probe.RefusedSameSiteNone, probe.RefusedSecurePrefix,
		probe.RefusedHostPrefix, probe.RefusedEvicted}
)

func known[T comparable](v T, list []T) bool {
	var zero T
	if v == zero {
		return true
	}
	for _, k := range list {
		if v == k {
			return true
		}
	}
	return false
}

// check rejects an event the probe could not have written.
func (d *EventDecoder) check(ev *probe.Event) error {
	h := d.header
	total := h.Sessions + h.Control
	switch {
	case ev.Frontend == "":
		return d.errorf("event without a frontend")
	case ev.Start.IsZero():
		return d.errorf("event without a start time")
	case ev.Session < 0 || ev.Session >= total:
		return d.errorf("session %d: the header announces sessions 0..%d", ev.Session, total-1)
	case ev.Control != (ev.Session >= h.Sessions):
		return d.errorf("session %d: control is %v, but the header puts control sessions from id %d on", ev.Session, ev.Control, h.Sessions)
	case ev.Seq < 0 || ev.Seq >= maxEventSeq:
		return d.errorf("session %d: seq %d out of range", ev.Session, ev.Seq)
	case ev.Latency < 0:
		return d.errorf("session %d seq %d: negative latency", ev.Session, ev.Seq)
	case ev.Status != 0 && (ev.Status < 100 || ev.Status > 999):
		return d.errorf("session %d seq %d: HTTP status %d", ev.Session, ev.Seq, ev.Status)
	case !known(ev.Error, knownErrors):
		return d.errorf("session %d seq %d: unknown error kind %q", ev.Session, ev.Seq, ev.Error)
	case !known(ev.TokenRefused, knownRefusals):
		return d.errorf("session %d seq %d: unknown refusal %q", ev.Session, ev.Seq, ev.TokenRefused)
	}
	if x := ev.HTTP; x != nil {
		t := x.Timings
		if t.Blocked < 0 || t.Send < 0 || t.Wait < 0 || t.Receive < 0 || t.DNS < -1 || t.Connect < -1 || t.TLS < -1 {
			return d.errorf("session %d seq %d: negative timing %+v", ev.Session, ev.Seq, t)
		}
	}
	for ev.Session >= len(d.lastSeq) {
		d.lastSeq = append(d.lastSeq, make([]int32, min(max(len(d.lastSeq), 64), total-len(d.lastSeq)))...)
	}
	if last := d.lastSeq[ev.Session]; int32(ev.Seq) < last {
		return d.errorf("session %d: seq %d after seq %d: a session's events must come in order", ev.Session, ev.Seq, last-1)
	}
	d.lastSeq[ev.Session] = int32(ev.Seq) + 1
	return nil
}
