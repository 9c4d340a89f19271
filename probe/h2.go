package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync/atomic"
)

// --http2 speaks HTTP/2 through net/http's own client connections: h2c
// with prior knowledge on http (HAProxy detects the preface on any bind
// in mode http), ALPN h2 on https. It exists for the first-request race:
// a browser multiplexes a page's first requests over one connection, and
// a load balancer balancing per stream splits them just the same. It is
// not the fast path; HTTP/1.1 stays the probe's own (conn.go).

// errNoH2 is a TLS server that would not speak HTTP/2.
var errNoH2 = errors.New("probe: the server did not negotiate HTTP/2 (ALPN h2); drop --http2 to probe it over HTTP/1.1")

// h2conn is one HTTP/2 connection. Several requests of a burst use it at
// once.
type h2conn struct {
	cc     *http.ClientConn
	addr   string // the address dialed: a session's own connection serves one frontend
	src    int    // its source address's index; -1 none
	local  string
	remote string
	used   atomic.Int32 // requests sent on it
}

func (h *h2conn) usable() bool { return h.cc.Err() == nil }

func (h *h2conn) close() { h.cc.Close() }

// h2Dial is what the transport's dial functions are to dial, passed in the
// context of NewClientConn, and the connection they made.
type h2Dial struct {
	t   *target
	src int
	raw net.Conn
}

type h2DialKey struct{}

// newH2Transport returns the transport that makes --http2 connections. It
// dials through the client: --resolve, the source address and the
// timeout apply as to HTTP/1.1.
func (c *client) newH2Transport() *http.Transport {
	var p http.Protocols
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(true)
	dial := func(ctx context.Context) (*h2Dial, net.Conn, error) {
		d, _ := ctx.Value(h2DialKey{}).(*h2Dial)
		if d == nil {
			return nil, nil, errors.New("probe: HTTP/2 dial without a target")
		}
		raw, err := c.dialRaw(ctx, d.t.addr, d.src)
		d.raw = raw
		return d, raw, err
	}
	return &http.Transport{
		Protocols: &p,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			_, raw, err := dial(ctx)
			return raw, err
		},
		DialTLSContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			d, raw, err := dial(ctx)
			if err != nil {
				return nil, err
			}
			if rec := recorderFrom(ctx); rec != nil {
				rec.mark(&rec.tlsStart)
			}
			tc := tls.Client(raw, d.t.tlsH2)
			if err := tc.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, err
			}
			if rec := recorderFrom(ctx); rec != nil {
				rec.mark(&rec.tlsDone)
			}
			if tc.ConnectionState().NegotiatedProtocol != "h2" {
				tc.Close()
				return nil, errNoH2
			}
			return tc, nil
		},
		DisableCompression:     true, // the body is read for --id body only, as sent
		MaxResponseHeaderBytes: maxHeaderBytes,
	}
}

type recorderKey struct{}

func recorderFrom(ctx context.Context) *recorder {
	rec, _ := ctx.Value(recorderKey{}).(*recorder)
	return rec
}

// dialH2 opens an HTTP/2 connection to t from source src. ctx bounds the
// dial only.
func (c *client) dialH2(ctx context.Context, t *target, src int, rec *recorder) (*h2conn, error) {
	d := &h2Dial{t: t, src: src}
	ctx = context.WithValue(ctx, h2DialKey{}, d)
	if rec != nil {
		ctx = context.WithValue(httptrace.WithClientTrace(ctx, rec.dialTrace()), recorderKey{}, rec)
	}
	cc, err := c.h2.NewClientConn(ctx, t.reqURL.Scheme, t.addr)
	if err != nil {
		return nil, err
	}
	h := &h2conn{cc: cc, addr: t.addr, src: src}
	if d.raw != nil {
		h.local, h.remote = d.raw.LocalAddr().String(), d.raw.RemoteAddr().String()
	}
	return h, nil
}

// exchangeH2 sends one GET of t over HTTP/2: on shared (a burst's
// connection) when given, else on the session's own connection (*slot,
// --conn session), else on a new connection closed afterwards.
func (c *client) exchangeH2(ctx context.Context, w *worker, t *target, shared *h2conn, slot **h2conn, src int, jar []*http.Cookie, mode bodyMode, ev *Event) (reply, error) {
	if t.err != nil {
		return reply{}, t.err
	}
	ctx, cancel := context.WithDeadline(ctx, c.now().Add(c.timeout))
	defer cancel()
	h := shared
	if h != nil && h.addr != t.addr {
		h = nil // a burst spread over frontends (--frontends rotate): this one goes elsewhere
	}
	if h == nil && slot != nil {
		if h = *slot; h != nil && (h.addr != t.addr || h.src != src || !h.usable()) {
			h.close()
			h, *slot = nil, nil
		}
	}
	if h == nil {
		var err error
		if h, err = c.dialH2(ctx, t, src, w.rec); err != nil {
			return reply{}, err
		}
		switch {
		case slot != nil:
			*slot = h
		default:
			defer h.close()
		}
	}
	ev.Reused, ev.Local = h.used.Add(1) > 1, h.local

	req := (&http.Request{
		Method: http.MethodGet, URL: t.reqURL, Host: t.h2Host, Header: t.h2Header.Clone(),
		Proto: "HTTP/2.0", ProtoMajor: 2,
	}).WithContext(ctx)
	if cookies := t.cookieValues(jar); len(cookies) > 0 {
		req.Header["Cookie"] = cookies
	}
	if c.mark != "" {
		req.Header.Set(MarkHeader, MarkValue(c.mark, ev.Session, ev.Seq))
	}
	if rec := w.rec; rec != nil {
		rec.gotConnection(h.remote)
		rec.wroteFields(req)
		req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest:         func(httptrace.WroteRequestInfo) { rec.mark(&rec.wrote) },
			GotFirstResponseByte: func() { rec.mark(&rec.resp) },
		}))
	}
	resp, err := h.cc.RoundTrip(req)
	if err != nil {
		// A connection that died before its first stream says only
		// "could not be established"; why is the connection's error
		// (an HTTP/1.1 answer to the preface, say).
		if cause := h.cc.Err(); cause != nil && !errors.Is(err, cause) && !strings.Contains(err.Error(), cause.Error()) {
			err = fmt.Errorf("%w: %v", err, cause)
		}
		return reply{}, err
	}
	body, _, bodyErr := readBody(w, resp, mode)
	resp.Body.Close()
	return reply{resp: resp, body: body, bodyErr: bodyErr}, nil
}

// burstH2 is the HTTP/2 connection a burst's requests share: the
// session's own (--conn session) when it goes where the burst goes, else
// a new one. nil when it cannot be dialed: each request then dials its
// own, and reports the failure.
func (r *Runner) burstH2(ctx context.Context, s *session, calls []call) *h2conn {
	t, src := calls[0].t, calls[0].src
	if h := s.h2; h != nil {
		if h.addr == t.addr && h.src == src && h.usable() {
			return h
		}
		h.close()
		s.h2 = nil
	}
	dctx, cancel := context.WithTimeout(ctx, r.spec.Timeout)
	defer cancel()
	h, err := r.client.dialH2(dctx, t, src, nil)
	if err != nil {
		return nil
	}
	return h
}

// wroteFields records the header fields of an HTTP/2 request as the
// request carries them (the pseudo-header :authority as Host).
func (rec *recorder) wroteFields(req *http.Request) {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	fields := []Header{{Name: "Host", Value: host}}
	for _, name := range slices.Sorted(maps.Keys(req.Header)) {
		for _, v := range req.Header[name] {
			fields = append(fields, Header{Name: name, Value: v})
		}
	}
	rec.mu.Lock()
	rec.fields = fields
	rec.mu.Unlock()
}
