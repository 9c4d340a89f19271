package lab

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// defaultBindAddr is where a lab listens unless HAProxyConfig.BindAddr says
// otherwise; backends and peers always use it.
const defaultBindAddr = "127.0.0.1"

// freePort asks the kernel for an unused port on 127.0.0.1 and releases it so
// an external process (haproxy) can bind it. There is an unavoidable race
// between closing and the other process binding; callers retry with a new
// port when the bind fails.
func freePort() (int, error) { return freePortOn(defaultBindAddr) }

// freePortOn is freePort on another loopback address (see loopbackHost).
func freePortOn(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", host, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// loopbackAddr is 127.0.0.1:port, the default address this package binds
// and dials.
func loopbackAddr(port int) string { return hostPort(defaultBindAddr, port) }

// hostPort joins a host checked by loopbackHost and a port.
func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// loopbackHost checks a configured bind address and returns it in canonical
// form: "" means 127.0.0.1, and anything outside 127.0.0.0/8 is refused, so
// the lab can never be made to listen on a real network. IPv6 (::1) is not
// supported: the backends and peers are IPv4-only.
func loopbackHost(addr string) (string, error) {
	if addr == "" {
		return defaultBindAddr, nil
	}
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("lab: bind address %q: want an IPv4 loopback address in 127.0.0.0/8, such as 127.0.0.2", addr)
	}
	return ip.To4().String(), nil
}

// listenRetry binds addr, retrying until timeout because a port that was just
// released can stay busy for a moment (lingering sockets, a slow exit).
func listenRetry(addr string, timeout time.Duration) (net.Listener, error) {
	deadline := time.Now().Add(timeout)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return ln, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("bind %s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
