package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// The probe speaks HTTP/1.1 itself on plain net.Conns: one write per
// request, the response read by http.ReadResponse, no goroutine per
// connection. http.Transport ran two goroutines and two 4 KB buffers per
// connection and handed every request and response across channels; on a
// loopback benchmark that was a third of the probe's CPU. What the
// Transport did that matters here is done the same way: the deadline of
// --timeout covers dial, TLS handshake, headers and body; 1xx responses
// are skipped; a request that fails on a reused connection before any
// byte of its response arrived is sent again once on a new one; bodies are
// drained only so far (maxDrain); an idle connection is not reused after
// idleTimeout.

// maxHeaderBytes bounds the response headers of one request, 1xx
// responses included (http.Transport's default).
const maxHeaderBytes = 10 << 20

// idleTimeout is the longest a connection stays idle and is still reused
// (the IdleConnTimeout the probe's http.Transport had).
const idleTimeout = 90 * time.Second

// staleCheckAfter: a connection idle this long is checked, before reuse,
// for a close or stray bytes from the server, as http.Transport's idle
// reader would have noticed them.
const staleCheckAfter = time.Second

// readBufferSize is http.Transport's default read buffer.
const readBufferSize = 4 << 10

var errStopped = errors.New("probe: the run was stopped")

// aLongTimeAgo is a deadline that has passed: it fails pending I/O at once.
var aLongTimeAgo = time.Unix(1, 0)

// conn is one client connection. It belongs to one request at a time: to
// a session between its requests (--conn session), to the target's idle
// pool (--conn shared), or to nobody (closed).
type conn struct {
	raw     net.Conn // the TCP connection: deadlines and the stale check
	nc      net.Conn // raw, or the TLS connection over it
	br      *bufio.Reader
	readers *sync.Pool // of *bufio.Reader: the client's
	local   string     // raw.LocalAddr().String(), once
	addr    string     // the address dialed: a session's own connection serves one frontend
	src     int        // the index of its source address (--source-ips); -1 none
	used    int        // responses read
	idleAt  time.Time
	tls     bool // a TLS handshake is still due

	limiting bool  // reading response headers: count the bytes
	limit    int64 // header bytes left
}

var errHeadersTooLong = fmt.Errorf("net/http: server response headers exceeded %d bytes; aborted", maxHeaderBytes)

// Read is what the bufio.Reader reads: the connection, with the headers of
// a response bounded as http.Transport bounds them.
func (c *conn) Read(p []byte) (int, error) {
	if !c.limiting {
		return c.nc.Read(p)
	}
	if c.limit <= 0 {
		return 0, errHeadersTooLong
	}
	if int64(len(p)) > c.limit {
		p = p[:c.limit]
	}
	n, err := c.nc.Read(p)
	c.limit -= int64(n)
	return n, err
}

func (c *conn) reader() *bufio.Reader {
	if c.br == nil {
		c.br = c.readers.Get().(*bufio.Reader)
		c.br.Reset(c)
	}
	return c.br
}

// idle marks the end of a request on a connection that stays open. An
// idle connection with nothing buffered gives its read buffer back, so an
// idle session holds a socket, not 4 KB.
func (c *conn) idle(now time.Time) {
	c.idleAt = now
	if c.br != nil && c.br.Buffered() == 0 {
		c.br.Reset(nil)
		c.readers.Put(c.br)
		c.br = nil
	}
}

func (c *conn) close() {
	c.nc.Close()
	if c.br != nil {
		c.br.Reset(nil)
		c.readers.Put(c.br)
		c.br = nil
	}
}

// idlePool holds the idle connections of one target under --conn shared,
// newest on top.
type idlePool struct {
	mu    sync.Mutex
	max   int
	conns []*conn
}

func (p *idlePool) get() *conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.conns)
	if n == 0 {
		return nil
	}
	c := p.conns[n-1]
	p.conns[n-1] = nil
	p.conns = p.conns[:n-1]
	return c
}

func (p *idlePool) put(c *conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.conns) >= p.max {
		return false
	}
	p.conns = append(p.conns, c)
	return true
}

func (p *idlePool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.close()
	}
	p.conns = nil
}

// worker is what one worker goroutine owns: its buffers, and the
// connection it is using, which stop cuts short when the run ends.
type worker struct {
	buf []byte // the request being written; the body being read
	jar []*http.Cookie
	rec *recorder // the recorder of the request in flight; nil unless the run records exchanges

	mu      sync.Mutex
	cur     net.Conn
	stopped bool
}

func newWorker() *worker { return &worker{buf: make([]byte, 0, 1024)} }

// begin sets the request's deadline on nc and makes nc the connection stop
// cuts short. It fails once the run is stopped.
func (w *worker) begin(nc net.Conn, deadline time.Time) error {
	if err := nc.SetDeadline(deadline); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return errStopped
	}
	w.cur = nc
	return nil
}

func (w *worker) end() {
	w.mu.Lock()
	w.cur = nil
	w.mu.Unlock()
}

// stop fails the worker's request in flight, if any, and every later one.
func (w *worker) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	if w.cur != nil {
		_ = w.cur.SetDeadline(aLongTimeAgo)
	}
}

func (w *worker) isStopped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopped
}

// bodyMode says how much of a response body the probe reads.
type bodyMode uint8

const (
	bodySkip  bodyMode = iota // nothing: the connection closes anyway
	bodyDrain                 // up to maxDrain, discarded, so the connection can be reused
	bodyRead                  // up to maxBodyIdentify, kept: identity is in the body
)

// client sends the requests of a run under its connection policy.
type client struct {
	dialer  net.Dialer
	timeout time.Duration
	policy  scenarios.ConnPolicy
	now     func() time.Time
	readers sync.Pool       // *bufio.Reader of readBufferSize, lent to busy connections
	sources []*net.TCPAddr  // --source-ips, by index
	h2      *http.Transport // --http2: makes the HTTP/2 connections; nil otherwise
	mark    string          // WithMark's run, "" for none
}

func newClient(spec scenarios.Spec, d *dialer, sources []*net.TCPAddr) *client {
	c := &client{dialer: d.Dialer, timeout: spec.Timeout, policy: spec.Conn, now: time.Now, sources: sources}
	if spec.HTTP2 {
		c.h2 = c.newH2Transport()
	}
	c.readers.New = func() any { return bufio.NewReaderSize(nil, readBufferSize) }
	if spec.Conn == scenarios.ConnFresh {
		// A connection that lives for one request needs no TCP
		// keep-alive probes: four fewer setsockopt calls per request.
		c.dialer.KeepAlive = -1
	}
	return c
}

// reply is what exchange got back.
type reply struct {
	resp    *http.Response
	body    []byte // with bodyRead: the first maxBodyIdentify bytes; valid until the worker's next request
	bodyErr error  // reading the body failed after the headers arrived
}

// exchange sends one GET of t with the jar's cookies and reads the
// response and as much of its body as mode asks. slot is the session's own
// connection under --conn session, else nil. ev gets Reused and Local.
// ctx stops a dial when the run is stopped.
func (c *client) exchange(ctx context.Context, w *worker, t *target, slot **conn, src int, jar []*http.Cookie, mode bodyMode, ev *Event) (reply, error) {
	if t.err != nil {
		return reply{}, t.err
	}
	start := c.now()
	deadline := start.Add(c.timeout)
	cn := c.take(t, slot, src, start)
	for {
		dialed := cn == nil
		if dialed {
			dctx := ctx
			if w.rec != nil {
				// net.Dialer reports its DNS and connect phases to
				// an httptrace hook in the context.
				dctx = httptrace.WithClientTrace(ctx, w.rec.dialTrace())
			}
			var err error
			if cn, err = c.dial(dctx, t, src); err != nil {
				return reply{}, err
			}
		}
		ev.Reused, ev.Local = cn.used > 0, cn.local
		resp, err := c.send(w, cn, t, jar, deadline, ev)
		if err != nil {
			w.end()
			cn.close()
			// http.Transport sends a request again when a reused
			// connection failed before any byte of the response: the
			// server closed it while it was idle.
			if !dialed && retryable(err) && !w.isStopped() {
				cn = nil
				continue
			}
			return reply{}, err
		}
		body, complete, bodyErr := readBody(w, resp, mode)
		w.end()
		cn.used++
		if complete && bodyErr == nil && c.policy != scenarios.ConnFresh && !t.close && !resp.Close &&
			resp.StatusCode >= 200 && (cn.br == nil || cn.br.Buffered() == 0) {
			c.release(t, slot, cn)
		} else {
			cn.close()
		}
		return reply{resp: resp, body: body, bodyErr: bodyErr}, nil
	}
}

// take returns the idle connection the policy offers for t from source
// src, if it is still usable.
func (c *client) take(t *target, slot **conn, src int, now time.Time) *conn {
	var cn *conn
	switch {
	case slot != nil:
		cn, *slot = *slot, nil
	case c.policy == scenarios.ConnShared:
		cn = t.pool.get()
	}
	if cn == nil {
		return nil
	}
	if cn.addr != t.addr || cn.src != src {
		// The session moved to another frontend (--frontends) or
		// source address (--source-move-after): a user's browser
		// opens a new connection then too.
		cn.close()
		return nil
	}
	idle := now.Sub(cn.idleAt)
	if idle > staleCheckAfter && idle <= idleTimeout {
		// The last request's deadline may have passed: clear it, or
		// the look at the socket fails for that alone.
		_ = cn.raw.SetDeadline(time.Time{})
	}
	if idle > idleTimeout || (idle > staleCheckAfter && (cn.br != nil || stale(cn.raw))) {
		cn.close()
		return nil
	}
	return cn
}

// release keeps a connection for the next request.
func (c *client) release(t *target, slot **conn, cn *conn) {
	cn.idle(c.now())
	switch {
	case slot != nil:
		*slot = cn
	case c.policy == scenarios.ConnShared && t.pool.put(cn):
	default:
		cn.close()
	}
}

func (c *client) dial(ctx context.Context, t *target, src int) (*conn, error) {
	raw, err := c.dialRaw(ctx, t.addr, src)
	if err != nil {
		return nil, err
	}
	cn := &conn{raw: raw, nc: raw, readers: &c.readers, local: raw.LocalAddr().String(), addr: t.addr, src: src}
	if t.tls != nil {
		cn.nc = tls.Client(raw, t.tls)
		cn.tls = true
	}
	return cn, nil
}

// dialRaw opens a TCP connection to addr, from source address src when
// the run binds one (-1: the system's choice).
func (c *client) dialRaw(ctx context.Context, addr string, src int) (net.Conn, error) {
	if src < 0 {
		// Not Dialer.DialTCP with a netip.AddrPort, though it skips
		// parsing "ip:port": with a zero local address it binds the
		// socket before connecting, a syscall more, and bind picks the
		// local port among those no socket holds, TIME_WAIT included,
		// where connect may reuse one towards another destination: a
		// fresh connection per request would run out of ports sooner.
		return c.dialer.DialContext(ctx, "tcp", addr)
	}
	// A bound source address: the port is left to connect (see
	// bindNoPort), for the same reason.
	d := c.dialer
	d.LocalAddr = c.sources[src]
	d.Control = bindNoPort
	return d.DialContext(ctx, "tcp", addr)
}

// send writes the request and reads the response headers, skipping 1xx
// responses.
func (c *client) send(w *worker, cn *conn, t *target, jar []*http.Cookie, deadline time.Time, ev *Event) (*http.Response, error) {
	if err := w.begin(cn.raw, deadline); err != nil {
		return nil, err
	}
	rec := w.rec
	if cn.tls {
		if rec != nil {
			rec.mark(&rec.tlsStart)
		}
		if err := cn.nc.(*tls.Conn).Handshake(); err != nil {
			return nil, err
		}
		if rec != nil {
			rec.mark(&rec.tlsDone)
		}
		cn.tls = false
	}
	if rec != nil {
		// As http.Transport's GotConn: the connection is ready, TLS
		// included.
		rec.gotConnection(cn.raw.RemoteAddr().String())
	}
	w.buf = appendMark(t.appendRequest(w.buf[:0], jar), c.mark, ev)
	if _, err := cn.nc.Write(w.buf); err != nil {
		return nil, nothingRead{err}
	}
	if rec != nil {
		rec.mark(&rec.wrote)
		rec.wroteHead(w.buf)
	}
	br := cn.reader()
	cn.limiting, cn.limit = true, maxHeaderBytes
	defer func() { cn.limiting = false }()
	if _, err := br.Peek(1); err != nil {
		return nil, nothingRead{err}
	}
	if rec != nil {
		rec.mark(&rec.resp)
	}
	return readResponse(br, t.req)
}

// readResponse reads the answer to req from br, skipping 1xx responses.
func readResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return nil, err
		}
		if code := resp.StatusCode; code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
			continue // informational: the answer follows
		}
		return resp, nil
	}
}

// nothingRead is an error before any byte of the response arrived.
type nothingRead struct{ err error }

func (e nothingRead) Error() string { return e.err.Error() }
func (e nothingRead) Unwrap() error { return e.err }

// retryable reports whether a request that failed on a reused connection
// is sent again: nothing of its response arrived, and the failure was not
// the deadline (which a new connection would not move).
func retryable(err error) bool {
	var nr nothingRead
	if !errors.As(err, &nr) {
		return false
	}
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// readBody reads as much of the body as mode asks. complete says the body
// was read to its end, so the connection can carry another request.
func readBody(w *worker, resp *http.Response, mode bodyMode) (body []byte, complete bool, err error) {
	if resp.Body == http.NoBody {
		return nil, true, nil
	}
	switch mode {
	case bodyRead:
		return readUpTo(w, resp, maxBodyIdentify, true)
	case bodyDrain:
		_, complete, err = readUpTo(w, resp, maxDrain, false)
		return nil, complete, err
	}
	return nil, false, nil
}

// readUpTo reads the body into the worker's buffer, keeping at most limit
// bytes when keep, else reusing one buffer's worth. complete says the body
// ended within limit.
func readUpTo(w *worker, resp *http.Response, limit int, keep bool) ([]byte, bool, error) {
	r := resp.Body
	buf := w.buf[:0]
	total := 0
	for total < limit {
		if len(buf) == cap(buf) {
			if keep {
				buf = append(buf, 0)[:len(buf)]
			} else {
				buf = buf[:0]
			}
		}
		room := min(cap(buf)-len(buf), limit-total)
		n, err := r.Read(buf[len(buf) : len(buf)+room])
		buf = buf[:len(buf)+n]
		total += n
		if err == io.EOF {
			w.buf = buf[:0]
			return buf, true, nil
		}
		if err != nil {
			w.buf = buf[:0]
			return buf, false, err
		}
	}
	w.buf = buf[:0]
	if resp.ContentLength < 0 {
		// Chunked or until close: finding out whether it ends here could
		// wait on the server; a body this long costs the connection.
		return buf, false, nil
	}
	// Exactly limit bytes of a body of known length: the reader answers
	// io.EOF without reading when that was all of it.
	var one [1]byte
	n, err := r.Read(one[:])
	if n == 0 && err == io.EOF {
		return buf, true, nil
	}
	return buf, false, nil
}

// dialTrace hooks a dial's DNS and connect phases.
func (rec *recorder) dialTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart:     func(httptrace.DNSStartInfo) { rec.mark(&rec.dnsStart) },
		DNSDone:      func(httptrace.DNSDoneInfo) { rec.mark(&rec.dnsDone) },
		ConnectStart: func(string, string) { rec.mark(&rec.connStart) },
		ConnectDone:  func(string, string, error) { rec.mark(&rec.connDone) },
	}
}

// gotConnection records that the request has its connection, to remote.
func (rec *recorder) gotConnection(remote string) {
	rec.mark(&rec.gotConn)
	rec.mu.Lock()
	rec.remote = remote
	rec.mu.Unlock()
}

// wroteHead records the header fields of the request head as written (the
// request line and the final empty line left out). A request sent again on
// a new connection replaces them.
func (rec *recorder) wroteHead(head []byte) {
	var fields []Header
	lines := strings.Split(string(head), "\r\n")
	for _, line := range lines[min(1, len(lines)):] {
		if line == "" {
			break
		}
		name, value, _ := strings.Cut(line, ":")
		fields = append(fields, Header{Name: name, Value: strings.TrimLeft(value, " \t")})
	}
	rec.mu.Lock()
	rec.fields = fields
	rec.mu.Unlock()
}
