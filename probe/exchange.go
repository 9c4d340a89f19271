package probe

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stickyprobe/stickyprobe/redact"
)

// Trace says what a run records besides an event's fixed fields.
type Trace struct {
	// Headers records each request's Exchange: headers as sent and
	// received, redacted, with timings (--har, -vv). Off by default: it
	// costs about a kilobyte per request a plain run does not need.
	Headers bool
	// Redactor hides secrets in what is recorded; nil means redact.New(),
	// a fresh random key.
	Redactor *redact.Redactor
}

// Option tunes a Runner.
type Option func(*Runner)

// WithTrace makes the run record what t asks for.
func WithTrace(t Trace) Option { return func(r *Runner) { r.trace = t } }

// Exchange is one request and its response as they went over the wire,
// secrets redacted (see package redact). It is what a HAR entry needs.
type Exchange struct {
	Method     string   `json:"method"`
	URL        string   `json:"url"`
	Request    []Header `json:"request_headers"`            // as written, in order
	Proto      string   `json:"proto,omitempty"`            // the response's, e.g. HTTP/1.1
	StatusText string   `json:"status_text,omitempty"`      // the reason phrase
	Response   []Header `json:"response_headers,omitempty"` // by name; no response, none
	BodySize   int64    `json:"body_size"`                  // Content-Length; -1 unknown
	Remote     string   `json:"remote,omitempty"`           // server address of the connection
	Timings    Timings  `json:"timings"`
}

// Header is one header field.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Timings are the phases of a request in microseconds, as HAR defines
// them: Blocked, DNS, Connect and TLS are -1 when the phase did not happen
// (a reused connection, an address without a name); Connect includes TLS.
type Timings struct {
	Blocked int64 `json:"blocked_us"`
	DNS     int64 `json:"dns_us"`
	Connect int64 `json:"connect_us"`
	TLS     int64 `json:"tls_us"`
	Send    int64 `json:"send_us"`
	Wait    int64 `json:"wait_us"`
	Receive int64 `json:"receive_us"`
}

// recorder collects the times and header fields of one request. The
// probe's client marks its steps (conn.go); net.Dialer calls the DNS and
// connect hooks, from its own goroutines when it races addresses, hence
// the lock.
type recorder struct {
	mu                   sync.Mutex
	t0                   time.Time
	dnsStart, dnsDone    time.Time
	connStart, connDone  time.Time
	tlsStart, tlsDone    time.Time
	gotConn, wrote, resp time.Time
	end                  time.Time // when the latency was taken
	url                  string    // the URL requested, as recorded (password redacted)
	remote               string
	fields               []Header
}

// recorder returns nil when the run does not record exchanges.
func (r *Runner) recorder() *recorder {
	if !r.trace.Headers {
		return nil
	}
	return &recorder{}
}

// mark records the first time a phase was reached.
func (rec *recorder) mark(t *time.Time) {
	now := time.Now()
	rec.mu.Lock()
	if t.IsZero() {
		*t = now
	}
	rec.mu.Unlock()
}

func (rec *recorder) start() {
	if rec != nil {
		rec.t0 = time.Now()
	}
}

// stop marks the end of the request at the moment its latency is taken,
// so the phases add up to no more than the latency.
func (rec *recorder) stop() {
	if rec != nil {
		rec.end = time.Now()
	}
}

// exchange builds the redacted Exchange of a finished request; resp is
// nil when the request failed. keep names the cookies whose values are the
// probe's evidence (the token, the identity cookie).
func (r *Runner) exchange(rec *recorder, ev *Event, resp *http.Response) *Exchange {
	if rec == nil {
		return nil
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	x := &Exchange{Method: http.MethodGet, URL: rec.url, BodySize: -1, Remote: rec.remote, Timings: rec.timings(rec.end)}
	rd := r.trace.Redactor
	keep := []string{ev.TokenName, r.ident.cookieName(ev.TokenName)}
	// Secrets hidden in one header are scrubbed from every other one of
	// the exchange: a backend may echo a credential or a session id.
	var hidden []redact.Secret
	x.Request = make([]Header, 0, len(rec.fields))
	for _, f := range rec.fields {
		v, hid := rd.Header(f.Name, f.Value, keep...)
		hidden = append(hidden, hid...)
		x.Request = append(x.Request, Header{Name: f.Name, Value: v})
	}
	if resp != nil {
		x.Proto, x.BodySize = resp.Proto, resp.ContentLength
		_, x.StatusText, _ = strings.Cut(resp.Status, " ")
		names := make([]string, 0, len(resp.Header))
		for name := range resp.Header {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			for _, v := range resp.Header[name] {
				v, hid := rd.Header(name, v, keep...)
				hidden = append(hidden, hid...)
				x.Response = append(x.Response, Header{Name: name, Value: v})
			}
		}
	}
	for _, list := range [][]Header{x.Request, x.Response} {
		for i := range list {
			list[i].Value = rd.Scrub(list[i].Value, hidden...)
		}
	}
	return x
}

// timings turns the marks into HAR phases. A phase never reached is -1 if
// optional, else 0; none is negative otherwise, whatever the clock did.
func (rec *recorder) timings(end time.Time) Timings {
	span := func(a, b time.Time) int64 {
		if a.IsZero() || b.IsZero() {
			return -1
		}
		return max(b.Sub(a).Microseconds(), 0)
	}
	t := Timings{
		DNS:     span(rec.dnsStart, rec.dnsDone),
		Connect: span(rec.connStart, rec.connDone),
		TLS:     span(rec.tlsStart, rec.tlsDone),
	}
	if !rec.tlsDone.IsZero() && !rec.connStart.IsZero() {
		t.Connect = span(rec.connStart, rec.tlsDone)
	}
	gotConn := rec.gotConn
	if gotConn.IsZero() {
		gotConn = end // the request failed before it had a connection
	}
	t.Blocked = max(span(rec.t0, gotConn)-max(t.DNS, 0)-max(t.Connect, 0), 0)
	t.Send = max(span(rec.gotConn, rec.wrote), 0)
	switch {
	case !rec.resp.IsZero():
		t.Wait = max(span(rec.wrote, rec.resp), 0)
		t.Receive = max(span(rec.resp, end), 0)
	case !rec.wrote.IsZero():
		t.Wait = max(span(rec.wrote, end), 0) // no answer: waited until the failure
	}
	return t
}
