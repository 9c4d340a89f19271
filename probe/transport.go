package probe

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// dialer connects to the address a --resolve entry names, or else to the
// host the URL names, so the Host header and the TLS server name stay those
// of the URL (curl's --resolve). newTarget applies the overrides once per
// frontend for the probe's own client, which dials with the embedded
// net.Dialer; DialContext and newTransport serve the net/http path that
// runs recording exchanges (--har, -vv) take (see Runner.doRecorded).
type dialer struct {
	net.Dialer
	resolve map[string]string // "host:port" → "ip:port"
}

func newDialer(spec scenarios.Spec) *dialer {
	d := &dialer{resolve: make(map[string]string, len(spec.Resolve))}
	d.Timeout = spec.Timeout
	for _, r := range spec.Resolve {
		port := strconv.Itoa(r.Port)
		d.resolve[net.JoinHostPort(r.Host, port)] = net.JoinHostPort(r.Addr, port)
	}
	return d
}

func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	// Keys are lower-case (ParseResolve); net/http dials the URL's host
	// as typed, so http://APP.example/ must still match.
	if to, ok := d.resolve[strings.ToLower(addr)]; ok {
		addr = to
	}
	return d.Dialer.DialContext(ctx, network, addr)
}

// newTransport builds the transport for a connection policy. keepAlive
// false gives a new TCP connection per request.
func newTransport(spec scenarios.Spec, d *dialer, keepAlive bool, idlePerHost int) *http.Transport {
	return &http.Transport{
		DialContext:           d.DialContext,
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: spec.Insecure}, //nolint:gosec // only with --insecure
		TLSHandshakeTimeout:   spec.Timeout,
		DisableKeepAlives:     !keepAlive,
		MaxIdleConnsPerHost:   idlePerHost,
		MaxIdleConns:          0,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: spec.Timeout,
		// The probe reads few bodies; asking for gzip would make the LB
		// and backend compress pages nobody looks at.
		DisableCompression: true,
		// HTTP/1.1 as most LB cookie set-ups are tested; HTTP/2 would
		// multiplex a session onto one connection and hide per-request
		// balancing.
		ForceAttemptHTTP2: false,
		TLSNextProto:      map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
}
