package haplog

import (
	"errors"
	"strings"
	"time"
)

// Why a line is not read as a request. ErrMessage is not a failure: the
// line is one of HAProxy's own messages ("Server be/s1 is DOWN, ...")
// that share the log with the requests.
var (
	ErrMessage   = errors.New("an HAProxy message, not a request")
	errEmpty     = errors.New("empty line")
	errClient    = errors.New("no client address:port at the start")
	errDate      = errors.New("no [dd/Mon/yyyy:hh:mm:ss.mmm] request date")
	errFields    = errors.New("too few fields for the HTTP log format")
	errRoute     = errors.New("no backend/server field")
	errTimers    = errors.New("no TR/Tw/Tc/Tr/Ta timers (a TCP log line?)")
	errStatus    = errors.New("status code is not a number")
	errTerm      = errors.New("termination state is not 4 characters (a TCP log line?)")
	errConns     = errors.New("no actconn/feconn/beconn/srv_conn/retries field")
	errCaptures  = errors.New("captured headers without a closing brace")
	errFormatEnd = errors.New("the line ends before the --log-format does")
	errLiteral   = errors.New("the line does not match the --log-format text")
)

// Parser reads log lines of one format. It is not safe for concurrent
// use: it caches the last date it parsed, since consecutive lines mostly
// share their second.
type Parser struct {
	format *Format // nil: HAProxy's default HTTP log format
	loc    *time.Location

	lastSecond string // "dd/Mon/yyyy:hh:mm:ss" of lastBase
	lastBase   time.Time
}

// NewParser returns a parser for format (nil: the default HTTP log
// format). Dates without a zone, as %tr writes them, are read in loc (nil:
// the local zone), which must be the zone of the HAProxy host.
func NewParser(format *Format, loc *time.Location) *Parser {
	if loc == nil {
		loc = time.Local
	}
	return &Parser{format: format, loc: loc}
}

// Parse reads line into r. The strings in r point into line. On an error
// r is left partly filled; ErrMessage marks HAProxy's own messages.
func (p *Parser) Parse(line string, r *Record) error {
	*r = Record{Status: -1}
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return errEmpty
	}
	host, msg := splitHeader(line)
	r.Host = host
	if isMessage(msg) {
		return ErrMessage
	}
	if p.format != nil {
		return p.format.match(p, msg, r)
	}
	return p.parseDefault(msg, r)
}

// parseDefault reads `option httplog`'s format:
//
//	%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r
func (p *Parser) parseDefault(s string, r *Record) error {
	var f string
	f, s = field(s)
	if !validClient(f) {
		return errClient
	}
	r.Client = f
	if len(s) < 2 || s[0] != '[' {
		return errDate
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return errDate
	}
	t, ok := p.date(s[1:end])
	if !ok {
		return errDate
	}
	r.Time = t
	s = strings.TrimPrefix(s[end+1:], " ")
	return p.parseAfterDate(s, r)
}

func (p *Parser) parseAfterDate(s string, r *Record) error {
	var fs [10]string // fe, be/srv, timers, status, bytes, CC, CS, tsc, conns, queues
	for i := range fs {
		if fs[i], s = field(s); fs[i] == "" {
			if i > 2 && strings.Count(fs[2], "/") < 3 {
				return errTimers
			}
			return errFields
		}
	}
	r.Frontend = strings.TrimSuffix(fs[0], "~")
	var ok bool
	if r.Backend, r.Server, ok = strings.Cut(fs[1], "/"); !ok {
		return errRoute
	}
	if strings.Count(fs[2], "/") < 3 {
		return errTimers
	}
	if r.Status, ok = atoi(fs[3]); !ok {
		return errStatus
	}
	if len(fs[7]) != 4 {
		return errTerm
	}
	r.Term = fs[7]
	slash := strings.LastIndexByte(fs[8], '/')
	if slash < 0 {
		return errConns
	}
	r.Redispatched = strings.HasPrefix(fs[8][slash+1:], "+")
	var err error
	if s, err = skipCaptures(s, r); err != nil {
		return err
	}
	r.Request = unquote(s)
	return nil
}

// skipCaptures reads the optional "{request headers}" and "{response
// headers}" blocks; HAProxy encodes braces inside captured values, so the
// first closing brace ends a block.
func skipCaptures(s string, r *Record) (string, error) {
	for i := 0; i < 2 && strings.HasPrefix(s, "{"); i++ {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return s, errCaptures
		}
		if i == 0 {
			r.Captured = s[1:end]
		}
		s = strings.TrimPrefix(s[end+1:], " ")
	}
	return s, nil
}

// field returns the text up to the next space and what follows it.
func field(s string) (string, string) {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// validClient accepts "addr:port" (IPv4 or IPv6 without brackets, as
// HAProxy writes them) and "unix:ID" for UNIX-socket listeners.
func validClient(f string) bool {
	i := strings.LastIndexByte(f, ':')
	if i <= 0 || i == len(f)-1 {
		return false
	}
	if _, ok := atoi(f[i+1:]); !ok {
		return false
	}
	for j := 0; j < i; j++ {
		c := f[j]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':' || c == '%') {
			return f[:i] == "unix"
		}
	}
	return true
}

// atoi reads a small decimal integer, optionally negative.
func atoi(s string) (int, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

var messagePrefixes = []string{"Server ", "Proxy ", "backend ", "Backup Server ", "Health check for ", "Stopping ", "Pausing ", "Resuming ", "Paused ", "Resumed "}

// isMessage recognises HAProxy's own log messages (servers going up or
// down, proxies starting or stopping), which share the log with requests.
func isMessage(s string) bool {
	for _, p := range messagePrefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
