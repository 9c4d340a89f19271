package lab

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// freePort asks the kernel for an unused port on 127.0.0.1 and releases it so
// an external process (haproxy) can bind it. There is an unavoidable race
// between closing and the other process binding; callers retry with a new
// port when the bind fails.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// loopbackAddr is the only kind of address this package binds or dials.
func loopbackAddr(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
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
