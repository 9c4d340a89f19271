package probe

import "syscall"

// ipBindAddressNoPort is Linux's IP_BIND_ADDRESS_NO_PORT (since 4.2),
// which the syscall package does not name.
const ipBindAddressNoPort = 24

// bindNoPort asks the kernel to choose the local port of a socket bound to
// a source address at connect time rather than at bind time: bind must
// pick a port no socket holds, TIME_WAIT ones included, so a fresh
// connection per request from one address would run out of ports within
// a minute; connect only needs the whole four-tuple to be unique. It is a
// hint: a kernel without it binds as before.
func bindNoPort(_, _ string, c syscall.RawConn) error {
	return c.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
}
