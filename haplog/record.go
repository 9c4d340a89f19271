package haplog

import "time"

// Record is what one HTTP log line says about one request. Strings point
// into the line they were parsed from.
type Record struct {
	File     string    // the file the line is in, as the Reader was told
	Host     string    // the syslog header's host name, "" without one (or "-")
	Client   string    // client address and port as HAProxy wrote them (%ci:%cp)
	Time     time.Time // when the request's first byte arrived (%tr); zero if the format has no date
	Frontend string    // without the "~" HAProxy appends for TLS
	Backend  string
	Server   string // "<NOSRV>" when no server was reached
	Status   int    // HTTP status, -1 when HAProxy logged none
	Term     string // the termination state, 4 characters (%tsc)
	// Redispatched is set when the retries field carries HAProxy's "+":
	// the request was redispatched to another server after failures.
	Redispatched bool
	Captured     string // the captured request headers, without braces ("" when none)
	UniqueID     string // %ID, custom formats only
	Request      string // the request line, without quotes
}

// ClientCookie is the third character of the termination state: what the
// client's persistence cookie did (N, I, D, V, E, O, U, or '-').
func (r *Record) ClientCookie() byte { return termChar(r.Term, 2) }

// ServerCookie is the fourth character: what happened to the cookie on the
// response (N, I, U, P, R, D, or '-').
func (r *Record) ServerCookie() byte { return termChar(r.Term, 3) }

func termChar(t string, i int) byte {
	if len(t) > i {
		return t[i]
	}
	return '-'
}
