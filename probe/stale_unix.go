//go:build unix

package probe

import (
	"net"
	"syscall"
)

// stale reports whether the server closed an idle connection or sent it
// bytes nobody asked for (HAProxy may say 408 before it closes one): a
// look at the socket that does not wait and does not consume.
func stale(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	var (
		buf  [1]byte
		rerr error
	)
	err = raw.Read(func(fd uintptr) bool {
		_, _, rerr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // one look; never wait
	})
	if err != nil {
		return true
	}
	if rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK || rerr == syscall.EINTR {
		return false // nothing to read: open and quiet
	}
	return true // bytes, the end of the stream, or an error
}
