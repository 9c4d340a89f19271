package haruntime

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// maxUnixPath is the longest UNIX socket path Linux accepts (sun_path is
// 108 bytes with the terminating NUL); a longer one fails only at dial
// time with an obscure error, so ParseAddr refuses it up front.
const maxUnixPath = 107

// Addr is where a Runtime API listens: a UNIX socket path or a TCP
// address.
type Addr struct {
	Network string // "unix" or "tcp"
	Address string // the path, or "host:port"
}

// String is the address as ParseAddr takes it.
func (a Addr) String() string {
	if a.Network == "tcp" {
		return "tcp:" + a.Address
	}
	return a.Address
}

// ParseAddr reads a --haproxy-socket value: a UNIX socket path (as in
// `stats socket /run/haproxy/admin.sock`), optionally written unix:PATH,
// or tcp:HOST:PORT (as in `stats socket ipv4@127.0.0.1:9999`).
func ParseAddr(s string) (Addr, error) {
	if s == "" {
		return Addr{}, errors.New("empty address: give a socket path or tcp:HOST:PORT")
	}
	if strings.ContainsAny(s, "\x00\r\n") {
		return Addr{}, fmt.Errorf("address %q contains a control character", s)
	}
	if rest, ok := strings.CutPrefix(s, "tcp:"); ok {
		host, port, err := net.SplitHostPort(rest)
		if err != nil {
			return Addr{}, fmt.Errorf("address %q: want tcp:HOST:PORT (%v)", s, err)
		}
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return Addr{}, fmt.Errorf("address %q: port %q is not 1-65535", s, port)
		}
		if host == "" {
			return Addr{}, fmt.Errorf("address %q: no host", s)
		}
		return Addr{Network: "tcp", Address: net.JoinHostPort(host, port)}, nil
	}
	path := strings.TrimPrefix(s, "unix:")
	if path == "" {
		return Addr{}, fmt.Errorf("address %q: no socket path", s)
	}
	if len(path) > maxUnixPath {
		return Addr{}, fmt.Errorf("socket path %q is %d bytes; UNIX sockets allow %d at most", path, len(path), maxUnixPath)
	}
	return Addr{Network: "unix", Address: path}, nil
}
