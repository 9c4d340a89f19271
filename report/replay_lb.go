package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"time"
)

// What the LB said (--haproxy-socket) and what its config says
// (--haproxy-config) are in the trailer. The LB's word is evidence while
// the events are judged, so a replay reads the trailer first: from the
// file's end when it can seek, else by a scan that decodes no event.

// tailChunk is the first bite read from the end of a file for its last
// line; a trailer longer than that is read with a second, of the longest
// line allowed.
const tailChunk = 64 << 10

// peek is the file's trailer read ahead of its events, nil when its last
// line is none (no trailer, a torn line, a file that cannot be read:
// the pass over the events says why).
func (f *replayFile) peek() *EventsTrailer {
	if f.peeked {
		return f.ahead
	}
	f.peeked = true
	rc, err := f.src.Open()
	if err != nil {
		return nil
	}
	defer rc.Close()
	line := lastLine(rc)
	var t EventsTrailer
	if line == nil || json.Unmarshal(line, &t) != nil || t.End == 0 {
		return nil
	}
	f.ahead = &t
	return f.ahead
}

// lastLine is r's last non-blank line, nil if there is none or it is
// longer than an events file's lines may be.
func lastLine(r io.Reader) []byte {
	if rs, ok := r.(io.ReadSeeker); ok {
		if size, err := rs.Seek(0, io.SeekEnd); err == nil {
			for _, n := range []int64{tailChunk, maxEventLine + 2} {
				if line, ok := lastLineWithin(rs, size, n); ok {
					return line
				}
			}
			return nil
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, tailChunk), maxEventLine)
	var last []byte
	for sc.Scan() {
		if l := bytesTrimSpace(sc.Bytes()); len(l) > 0 {
			last = append(last[:0], l...)
		}
	}
	if sc.Err() != nil {
		return nil
	}
	return last
}

// lastLineWithin looks for the last line in the last n bytes of rs; ok
// is false when that line may start before them.
func lastLineWithin(rs io.ReadSeeker, size, n int64) ([]byte, bool) {
	from := max(size-n, 0)
	if _, err := rs.Seek(from, io.SeekStart); err != nil {
		return nil, true
	}
	buf := make([]byte, size-from)
	if _, err := io.ReadFull(rs, buf); err != nil {
		return nil, true
	}
	buf = bytes.TrimRight(buf, " \t\r\n")
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		return bytesTrimSpace(buf[i+1:]), true
	}
	return bytesTrimSpace(buf), from == 0
}

// serverStates is the LB's word on its servers in the files' trailers,
// nil when none has it.
func (rp *Replay) serverStates() ServerStates {
	var all lbStates
	for _, f := range rp.files {
		if t := f.peek(); t != nil && t.LBState != nil {
			all = append(all, t.LBState)
		}
	}
	if len(all) == 0 {
		return nil
	}
	return all
}

// lbStates are the LB states of merged files: the first that knows a
// server's outage says it.
type lbStates []*LBState

func (l lbStates) DownAt(server string) (down, up time.Time, ok bool) {
	for _, s := range l {
		if down, up, ok = s.DownAt(server); ok {
			return down, up, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// annotate puts back what the trailers kept: the LB state as recorded,
// and the config join tied to this report's causes. Merged files show
// the first file's of each; the others are named in a warning.
func (rp *Replay) annotate(rep *Report) {
	var lb, join *replayFile
	for _, f := range rp.files {
		t := f.trailer
		if t == nil {
			continue
		}
		if t.LBState != nil {
			if lb == nil {
				lb = f
			} else if !rp.annotated {
				rp.warn("%s also has what the LB said; the report shows %s's", f.label, lb.label)
			}
		}
		if t.ConfigJoin != nil {
			if join == nil {
				join = f
			} else if !rp.annotated && !reflect.DeepEqual(t.ConfigJoin, join.trailer.ConfigJoin) {
				rp.warn("%s was run with another --haproxy-config than %s; the report ties the causes to %s's", f.label, join.label, join.label)
			}
		}
	}
	rp.annotated = true
	if lb != nil {
		rep.LBState = lb.trailer.LBState
	}
	if join != nil {
		join.trailer.ConfigJoin.Apply(rep)
	}
}
