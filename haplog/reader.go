package haplog

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unsafe"

	"github.com/stickyprobe/stickyprobe/redact"
)

// MaxLine is the longest line read; a longer one is skipped whole and
// counted unreadable, so a file without newlines cannot exhaust memory.
const MaxLine = 64 << 10

// Default bounds of what a Reader keeps besides its counters.
const (
	DefaultSamples = 5   // unreadable lines kept as samples
	maxChanges     = 100 // server state changes kept
	maxSampleText  = 200 // bytes of an unreadable line shown
)

// The kinds of line Reader.Observe is told.
const (
	LineRequest    = "request"
	LineMessage    = "message"
	LineUnreadable = "unreadable"
)

// Sample is one unreadable line, for the user to see why.
type Sample struct {
	File   string `json:"file"`
	Line   int64  `json:"line"`
	Reason string `json:"reason"`
	Text   string `json:"text"` // truncated, values after '=' redacted
}

// Change is a server state change HAProxy logged ("Server be/s1 is DOWN").
type Change struct {
	File    string `json:"file"`
	Line    int64  `json:"line"`
	Host    string `json:"host,omitempty"`
	Backend string `json:"backend"`
	Server  string `json:"server"`
	State   string `json:"state"` // "UP", "DOWN", or the word HAProxy used
}

// Reader reads log lines with one Parser and counts what it could not
// read. It is not safe for concurrent use.
type Reader struct {
	Parser     *Parser
	Redactor   *redact.Redactor // redacts sample text; nil shows it
	MaxSamples int              // 0: DefaultSamples
	// Observe, when set, is told the kind of every line read: LineRequest,
	// LineMessage or LineUnreadable (empty lines are not told).
	Observe func(kind string)
	// OnChange, when set, is told every server state change, beyond the
	// ones Changes keeps too.
	OnChange func(Change)

	Lines      int64 // lines read, of every kind
	Requests   int64 // request lines handed to the callback
	Messages   int64 // HAProxy's own messages
	Unreadable int64
	Samples    []Sample
	Changes    []Change
}

// Read reads r line by line and calls fn with every request. The Record
// and its strings are valid only during the call: fn must clone what it
// keeps. The error is r's (a truncated gzip file), never a line's.
func (rd *Reader) Read(name string, r io.Reader, fn func(*Record)) error {
	br := bufio.NewReaderSize(r, MaxLine)
	var rec Record
	var lineNo int64
	for {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			lineNo++
			rd.Lines++
			rd.unreadable(name, lineNo, "line longer than 64 KiB", string(b[:maxSampleText]))
			if err = skipLine(br); err != nil && err != io.EOF {
				return fmt.Errorf("%s: %w", name, err)
			}
			continue
		}
		if len(b) > 0 {
			lineNo++
			rd.Lines++
			rd.line(name, lineNo, unsafe.String(unsafe.SliceData(b), len(b)), &rec, fn)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: line %d: %w", name, lineNo+1, err)
		}
	}
}

func (rd *Reader) line(name string, n int64, line string, rec *Record, fn func(*Record)) {
	err := rd.Parser.Parse(line, rec)
	switch {
	case err == nil:
		rec.File = name
		rd.Requests++
		rd.observe(LineRequest)
		fn(rec)
	case errors.Is(err, ErrMessage):
		rd.Messages++
		rd.observe(LineMessage)
		rd.change(name, n, rec.Host, line)
	case errors.Is(err, errEmpty):
	default:
		rd.unreadable(name, n, err.Error(), line)
	}
}

func skipLine(br *bufio.Reader) error {
	for {
		_, err := br.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

func (rd *Reader) observe(kind string) {
	if rd.Observe != nil {
		rd.Observe(kind)
	}
}

func (rd *Reader) unreadable(name string, n int64, reason, line string) {
	rd.Unreadable++
	rd.observe(LineUnreadable)
	max := rd.MaxSamples
	if max == 0 {
		max = DefaultSamples
	}
	if len(rd.Samples) >= max {
		return
	}
	line = strings.TrimRight(line, "\r\n")
	if len(line) > maxSampleText {
		line = line[:maxSampleText] + "..."
	}
	rd.Samples = append(rd.Samples, Sample{File: name, Line: n, Reason: reason, Text: redactValues(rd.Redactor, line)})
}

// change records "Server BACKEND/SERVER is STATE, ..." messages.
func (rd *Reader) change(name string, n int64, host, line string) {
	if len(rd.Changes) >= maxChanges && rd.OnChange == nil {
		return
	}
	_, msg := splitHeader(strings.TrimRight(line, "\r\n"))
	msg = strings.TrimPrefix(msg, "Backup ")
	rest, ok := strings.CutPrefix(msg, "Server ")
	if !ok {
		return
	}
	route, rest, _ := strings.Cut(rest, " ")
	be, srv, ok := strings.Cut(route, "/")
	state, ok2 := strings.CutPrefix(rest, "is ")
	if !ok || !ok2 {
		return
	}
	state, _, _ = strings.Cut(state, ",")
	state, _, _ = strings.Cut(state, " ")
	c := Change{File: name, Line: n, Host: strings.Clone(host),
		Backend: strings.Clone(be), Server: strings.Clone(srv), State: strings.Clone(state)}
	if rd.OnChange != nil {
		rd.OnChange(c)
	}
	if len(rd.Changes) < maxChanges {
		rd.Changes = append(rd.Changes, c)
	}
}

// redactValues hides what follows '=' in every NAME=VALUE of a line:
// captured cookies and query strings can carry users' secrets.
func redactValues(rd *redact.Redactor, s string) string {
	if !rd.Enabled() || !strings.Contains(s, "=") {
		return strings.Clone(s)
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '=')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+1])
		s = s[i+1:]
		j := strings.IndexAny(s, " ;&\"|}")
		if j < 0 {
			j = len(s)
		}
		b.WriteString(rd.Value(s[:j]))
		s = s[j:]
	}
}

// Open opens a log file, "-" for standard input, and decompresses it when
// it is gzip data (rotated logs: haproxy.log.2.gz), whatever its name.
func Open(name string) (io.ReadCloser, error) {
	var f io.ReadCloser = os.Stdin
	if name != "-" {
		var err error
		if f, err = os.Open(name); err != nil {
			return nil, err
		}
	}
	return decompress(name, f)
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

func decompress(name string, f io.ReadCloser) (io.ReadCloser, error) {
	br := bufio.NewReader(f)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return readCloser{br, f.Close}, nil
	}
	z, err := gzip.NewReader(br)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return readCloser{z, func() error { z.Close(); return f.Close() }}, nil
}
