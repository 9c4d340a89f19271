package probe

import (
	"net"
	"strconv"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// dialer connects to the address a --resolve entry names, or else to the
// host the URL names, so the Host header and the TLS server name stay those
// of the URL (curl's --resolve). newTarget applies the overrides once per
// frontend; the client dials with the embedded net.Dialer.
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
