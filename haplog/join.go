package haplog

import (
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// joinSlack is how far a log line's request date may be from the probe's
// request (its start, to its start plus latency) and still be that
// request: both clocks are the same host's in the lab, NTP-close in real
// life, and HAProxy's date has millisecond resolution.
const joinSlack = time.Second

// Switch is one switch of a broken session, as the probe's report tells
// it, and what HAProxy's log recorded for that very request.
type Switch struct {
	Session int
	Seq     int
	From    string // the session's pin
	To      string // the backend that answered instead
	Cause   report.Cause
	Local   string    // the request's local address: the client address the LB logs
	Start   time.Time // when the probe sent it
	Latency time.Duration

	Found bool   // a log line was joined
	By    string // "mark" or "address"
	Line  Record // its strings are the Switch's own
	dt    time.Duration
}

// Join pairs the switches of a run's report with log records. A nil *Join
// does nothing, so callers need not check.
type Join struct {
	switches []*Switch
	byLocal  map[string][]*Switch
	byMark   map[[2]int]*Switch
}

// NewJoin takes the switches of the report's sampled broken sessions and
// fills their local address and time from the events (each streams them).
func NewJoin(rep *report.Report, each func(func(*probe.Event) error) error) (*Join, error) {
	j := &Join{byLocal: map[string][]*Switch{}, byMark: map[[2]int]*Switch{}}
	for _, sm := range rep.Samples {
		for _, st := range sm.Steps {
			if st.Switch {
				sw := &Switch{Session: sm.Session, Seq: st.Seq, From: sm.Pin, To: st.Backend, Cause: sm.Cause}
				j.switches = append(j.switches, sw)
				j.byMark[[2]int{sw.Session, sw.Seq}] = sw
			}
		}
	}
	err := each(func(ev *probe.Event) error {
		if sw := j.byMark[[2]int{ev.Session, ev.Seq}]; sw != nil {
			sw.Local, sw.Start, sw.Latency = logAddr(ev.Local), ev.Start, ev.Latency
			if sw.Local != "" {
				j.byLocal[sw.Local] = append(j.byLocal[sw.Local], sw)
			}
		}
		return nil
	})
	return j, err
}

// Add offers one log record: it joins the switch its mark names, or the
// switch from the same client address closest in time.
func (j *Join) Add(r *Record) {
	if j == nil {
		return
	}
	if s, q, ok := ParseMark(r.Captured + "|" + r.UniqueID); ok {
		// Another run's request can carry the same session and seq: the
		// time must fit too.
		if sw := j.byMark[[2]int{s, q}]; sw != nil && sw.near(r) {
			j.take(sw, r, "mark", 0)
		}
		return
	}
	for _, sw := range j.byLocal[r.Client] {
		if sw.By == "mark" || !sw.near(r) {
			continue
		}
		dt := r.Time.Sub(sw.Start).Abs()
		if !sw.Found || dt < sw.dt {
			j.take(sw, r, "address", dt)
		}
	}
}

// near reports whether the record's date fits the switch's request.
func (sw *Switch) near(r *Record) bool {
	if r.Time.IsZero() {
		return false
	}
	lo, hi := sw.Start.Add(-joinSlack), sw.Start.Add(sw.Latency+joinSlack)
	return !r.Time.Before(lo) && !r.Time.After(hi)
}

func (j *Join) take(sw *Switch, r *Record, by string, dt time.Duration) {
	sw.Found, sw.By, sw.dt = true, by, dt
	sw.Line = Record{File: r.File, Host: strings.Clone(r.Host), Client: strings.Clone(r.Client), Time: r.Time,
		Frontend: strings.Clone(r.Frontend), Backend: strings.Clone(r.Backend), Server: strings.Clone(r.Server),
		Status: r.Status, Term: strings.Clone(r.Term), Redispatched: r.Redispatched}
}

// Switches returns the switches in report order.
func (j *Join) Switches() []*Switch {
	if j == nil {
		return nil
	}
	return j.switches
}

// ParseMark finds the probe's mark (probe.MarkValue) among captured
// headers ("a|RUN/3/7|b") or in a unique id. The join uses session and seq, within one
// events file.
func ParseMark(captured string) (session, seq int, ok bool) {
	for _, v := range strings.Split(captured, "|") {
		parts := strings.Split(v, "/")
		if len(parts) != 3 {
			continue
		}
		s, ok1 := atoi(parts[1])
		q, ok2 := atoi(parts[2])
		if ok1 && ok2 && s >= 0 && q >= 0 {
			return s, q, true
		}
	}
	return 0, 0, false
}

// Agreement says whether HAProxy's client cookie status fits the report's
// cause: "confirms", "contradicts", or "" when the cause says nothing a
// status could confirm.
func Agreement(cause report.Cause, line *Record) string {
	c := line.ClientCookie()
	want := map[report.Cause]string{
		report.CauseTokenIgnored:    "I",
		report.CauseTokenReassigned: "DEO",
		report.CauseNoToken:         "N",
		report.CauseTokenRefused:    "N",
		report.CauseTokenNotSent:    "N",
		report.CauseFrontendChanged: "I",
		report.CauseAfterError:      "D",
	}[cause]
	switch {
	case want == "" && c == 'V':
		return "contradicts" // HAProxy honoured the cookie, yet the server changed
	case want == "":
		return ""
	case strings.IndexByte(want, c) >= 0 || cause == report.CauseAfterError && line.Redispatched:
		return "confirms"
	}
	return "contradicts"
}

// Write prints every switch with what HAProxy recorded for it.
func (j *Join) Write(w io.Writer) error {
	if j == nil {
		return nil
	}
	ew := &errWriter{w: w}
	found := 0
	for _, sw := range j.switches {
		if sw.Found {
			found++
		}
	}
	fmt.Fprintf(ew, "\nThe probe's switches, in HAProxy's words (%d of %d found in the log):\n", found, len(j.switches))
	for _, sw := range j.switches {
		fmt.Fprintf(ew, "  #%d seq %d pinned to %s, served by %s (report: %s): ", sw.Session, sw.Seq, sw.From, sw.To, sw.Cause)
		if !sw.Found {
			fmt.Fprintf(ew, "no log line for %s at %s\n", orDash(sw.Local), sw.Start.Format("15:04:05.000"))
			continue
		}
		l := &sw.Line
		node := " in " + l.File
		if l.Host != "" {
			node = " on node " + l.Host
		}
		fmt.Fprintf(ew, "HAProxy%s: %s/%s %d %s, client cookie %c (%s), server cookie %c (%s) [by %s]",
			node, l.Backend, l.Server, l.Status, l.Term, l.ClientCookie(), clientWord(l.ClientCookie()),
			l.ServerCookie(), serverWord(l.ServerCookie()), sw.By)
		if a := Agreement(sw.Cause, l); a != "" {
			fmt.Fprintf(ew, " — %s the report", a)
		}
		fmt.Fprintln(ew)
	}
	return ew.err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clientWord and serverWord name a status in a word, for one-line output.
func clientWord(c byte) string {
	if w, ok := map[byte]string{'N': "none", 'I': "invalid", 'D': "server down", 'V': "valid", 'E': "expired",
		'O': "too old", 'U': "unused", '-': "no persistence"}[c]; ok {
		return w
	}
	return "unknown"
}

func serverWord(c byte) string {
	if w, ok := map[byte]string{'N': "none", 'I': "inserted", 'U': "updated", 'P': "provided",
		'R': "rewritten", 'D': "deleted", '-': "no persistence"}[c]; ok {
		return w
	}
	return "unknown"
}

// logAddr writes a Go address ("[::1]:4000") as HAProxy's %ci:%cp does
// ("::1:4000").
func logAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	return host + ":" + port
}
