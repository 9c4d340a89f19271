package probe

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// target is one frontend, prepared once for the whole run: where to
// connect and the bytes of the request up to its Cookie header, as
// net/http's Request.write would send them. Every request of every
// session to this frontend shares it; nothing in it changes after
// newTarget.
type target struct {
	u      *url.URL // the frontend as given: the URL the jar is asked for cookies
	reqURL *url.URL // u.String() parsed again, as http.NewRequest does: the URL of the request and of SetCookies
	raw    string   // u.String(): the URL requested
	shown  string   // u as recorded, password redacted: Event.Frontend, an Exchange's URL
	via    string   // " via ADDR" for one of several --resolve addresses of a host, else ""

	addr string      // host:port to connect to, after --resolve
	tls  *tls.Config // nil for http

	head       []byte         // request line and fixed headers; the Cookie header and the final CRLF follow
	userCookie []string       // Cookie header values given with --header, merged as Request.AddCookie does
	userAll    []*http.Cookie // the cookies of every userCookie value: the request's when the jar sends none
	userFirst  []*http.Cookie // the cookies of userCookie[0]: the only ones AddCookie keeps before the jar's
	close      bool           // the request asks the server to close the connection
	req        *http.Request  // a GET of reqURL for http.ReadResponse (its method and URL); shared, read-only
	err        error          // the request cannot be sent (net/http would refuse it): every request fails with it
	pool       *idlePool      // idle connections of the shared policy; a frontend's targets (one per phase path) share its pool

	// --http2: the request as net/http's HTTP/2 client takes it.
	h2Header http.Header // the fixed headers: User-Agent and --header ones, no Cookie
	h2Host   string      // the Host header given with --header, else ""
	tlsH2    *tls.Config // tls offering only h2 by ALPN; nil for http
}

// newTarget prepares frontend u under spec. fresh adds Connection: close,
// as http.Transport does with DisableKeepAlives.
func newTarget(spec scenarios.Spec, u *url.URL, d *dialer, fresh bool, idle int) *target {
	t := &target{u: u, raw: u.String(), shown: u.String(), pool: &idlePool{max: idle}}
	reqURL, err := url.Parse(t.raw)
	if err != nil { // ParseURL checked that it parses back; this cannot happen
		t.err, t.reqURL = err, u
	} else {
		t.reqURL = reqURL
	}
	t.req = &http.Request{Method: http.MethodGet, URL: t.reqURL, Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}

	// Where to connect: Transport's canonicalAddr, then --resolve.
	host := t.reqURL.Hostname()
	if v, err := idnaASCII(host); err == nil {
		host = v
	}
	port := t.reqURL.Port()
	if port == "" {
		port = "80"
		if t.reqURL.Scheme == "https" {
			port = "443"
		}
	}
	t.addr = net.JoinHostPort(host, port)
	if to, ok := d.resolve[strings.ToLower(t.addr)]; ok {
		t.addr = to
	}
	if t.reqURL.Scheme == "https" {
		// Transport's tlsHost: the dialed host without its port.
		name := net.JoinHostPort(host, port)
		name = name[:strings.LastIndex(name, ":")]
		t.tls = &tls.Config{ServerName: name, InsecureSkipVerify: spec.Insecure} //nolint:gosec // only with --insecure
	}

	h := http.Header{}
	hostHeader := ""
	for _, hv := range spec.Headers {
		if hv.Name == "Host" {
			hostHeader = hv.Value
			continue
		}
		h.Add(hv.Name, hv.Value)
	}
	t.userCookie = h.Values("Cookie")
	t.userAll = (&http.Request{Header: http.Header{"Cookie": t.userCookie}}).Cookies()
	if len(t.userCookie) > 0 {
		t.userFirst = (&http.Request{Header: http.Header{"Cookie": t.userCookie[:1]}}).Cookies()
	}
	t.close = fresh || wantsClose(h.Values("Connection"))
	if spec.HTTP2 {
		t.h2Header, t.h2Host = h.Clone(), hostHeader
		t.h2Header.Del("Cookie")
		t.h2Header.Del("Connection") // a connection-specific header has no place in HTTP/2
		t.h2Header.Set("User-Agent", "stickyprobe")
		if t.tls != nil {
			t.tlsH2 = t.tls.Clone()
			t.tlsH2.NextProtos = []string{"h2"}
		}
	}
	head, err := requestHead(t.reqURL, hostHeader, h, fresh)
	if err != nil && t.err == nil {
		t.err = err
	}
	t.head = head
	return t
}

// requestHead renders what net/http sends before the Cookie header: the
// request line, Host (punycode, no IPv6 zone), User-Agent, Connection:
// close when asked, and the extra headers sorted by name. It asks
// Request.Write for them, once per frontend, so the bytes are net/http's.
func requestHead(u *url.URL, hostHeader string, h http.Header, closeConn bool) ([]byte, error) {
	h = h.Clone()
	h.Del("Cookie") // per request
	h.Set("User-Agent", "stickyprobe")
	req := &http.Request{Method: http.MethodGet, URL: u, Host: hostHeader, Header: h, Close: closeConn,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		return nil, err
	}
	head, ok := bytes.CutSuffix(b.Bytes(), []byte("\r\n"))
	if !ok {
		return nil, errors.New("probe: request head does not end with an empty line")
	}
	return head, nil
}

// appendRequest appends the whole request head for the jar's cookies to
// b: the fixed part, one Cookie header (the --header Cookie values and the
// jar's, merged as Request.AddCookie merges them) and the final CRLF.
func (t *target) appendRequest(b []byte, jar []*http.Cookie) []byte {
	b = append(b, t.head...)
	switch {
	case len(jar) == 0:
		for _, v := range t.userCookie {
			b = append(b, "Cookie: "...)
			b = append(b, strings.TrimSpace(v)...)
			b = append(b, "\r\n"...)
		}
	default:
		b = append(b, "Cookie: "...)
		b = t.appendCookieValue(b, jar)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

// appendCookieValue appends the value of the one Cookie header a request
// with the jar's (non-empty) cookies carries: the first --header Cookie
// value, then the jar's, as Request.AddCookie merges them.
func (t *target) appendCookieValue(b []byte, jar []*http.Cookie) []byte {
	if len(t.userCookie) > 0 && t.userCookie[0] != "" {
		// AddCookie keeps the first Cookie value and appends to it.
		b = append(b, t.userCookie[0]...)
		b = append(b, "; "...)
	}
	for i, c := range jar {
		if i > 0 {
			b = append(b, "; "...)
		}
		b = appendCookie(b, c)
	}
	return b
}

// cookieValues are the Cookie header values of a request carrying the
// jar's cookies: what appendRequest writes, for the HTTP/2 client.
func (t *target) cookieValues(jar []*http.Cookie) []string {
	if len(jar) == 0 {
		out := make([]string, 0, len(t.userCookie))
		for _, v := range t.userCookie {
			out = append(out, strings.TrimSpace(v))
		}
		return out
	}
	return []string{string(t.appendCookieValue(nil, jar))}
}

// appendCookie appends name=value as Request.AddCookie formats it.
func appendCookie(b []byte, c *http.Cookie) []byte {
	for i := 0; i < len(c.Name); i++ {
		if ch := c.Name[i]; ch == '\n' || ch == '\r' {
			ch = '-'
			b = append(b, ch)
		} else {
			b = append(b, ch)
		}
	}
	b = append(b, '=')
	v := c.Value
	valid := true
	for i := 0; i < len(v); i++ {
		if !validCookieValueByte(v[i]) {
			valid = false
			break
		}
	}
	if !valid { // net/http drops the bytes a cookie value may not hold
		var s strings.Builder
		for i := 0; i < len(v); i++ {
			if validCookieValueByte(v[i]) {
				s.WriteByte(v[i])
			}
		}
		v = s.String()
	}
	if v == "" {
		return b
	}
	if c.Quoted || strings.ContainsAny(v, " ,") {
		b = append(b, '"')
		b = append(b, v...)
		return append(b, '"')
	}
	return append(b, v...)
}

func validCookieValueByte(b byte) bool {
	return 0x20 <= b && b < 0x7f && b != '"' && b != ';' && b != '\\'
}

// sentCookie is the value of cookie name in the request for the jar's
// cookies, as Request.Cookie would find it: --header cookies first.
func (t *target) sentCookie(jar []*http.Cookie, name string) (string, bool) {
	user := t.userAll
	if len(jar) > 0 {
		user = t.userFirst
	}
	for _, c := range user {
		if c.Name == name {
			return c.Value, true
		}
	}
	for _, c := range jar {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// idnaASCII is the host name net/http dials: ASCII names as they are,
// others in punycode, which only net/http's own writer computes without
// another module.
func idnaASCII(v string) (string, error) {
	ascii := true
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return v, nil
	}
	var b bytes.Buffer
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "http", Host: v, Path: "/"}, Header: http.Header{}}
	if err := req.Write(&b); err != nil {
		return "", err
	}
	for line := range strings.SplitSeq(b.String(), "\r\n") {
		if host, ok := strings.CutPrefix(line, "Host: "); ok && host != "" {
			return host, nil
		}
	}
	return "", errors.New("probe: no punycode for " + v)
}

// wantsClose reports whether Connection header values hold the token close.
func wantsClose(values []string) bool {
	for _, v := range values {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "close") {
				return true
			}
		}
	}
	return false
}
