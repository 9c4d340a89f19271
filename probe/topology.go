package probe

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// This file decides, for each request, which frontend it goes to and
// which local address it comes from. Both are functions of the session,
// its request number and the seed, not of the order workers run in: a
// seed repeats them, and a saved session resumes where it was.

// frontendOf is the index (in r.targets) of the frontend the session's
// request seq goes to.
func (r *Runner) frontendOf(s *session, seq int) int {
	n := len(r.targets)
	if n == 1 {
		return 0
	}
	switch r.spec.Frontends {
	case scenarios.FrontendsRotate:
		return (int(s.front) + seq) % n
	case scenarios.FrontendsRandom:
		return int(mix(r.seed^r.frontKey, uint64(s.id)<<32|uint64(uint32(seq))) % uint64(n))
	}
	return int(s.front)
}

// mix is splitmix64's finalizer over a and b: a cheap, well-spread hash
// for choices that must not depend on the order they are made in.
func mix(a, b uint64) uint64 {
	z := a + b*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func purposeKey(purpose string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	return h.Sum64()
}

// sourceOf is the index (in r.sources) of the local address the session's
// request seq comes from, or -1 when the run binds none. A measured
// session keeps one address, and moves to the next one in the pool after
// --source-move-after requests, as a user behind a NAT that changed or a
// phone that changed networks. A control session takes a new address for
// every request: it is the user whose source persistence cannot work, and
// it must move, or the run could not have seen breakage.
func (r *Runner) sourceOf(s *session, seq int) int {
	n := len(r.sources)
	if n == 0 {
		return -1
	}
	if s.control {
		return (s.id + seq) % n
	}
	i := s.id % n
	if m := r.spec.SourceMoveAfter; m > 0 && seq >= m {
		i = (i + 1) % n
	}
	return i
}

// newSources prepares the local addresses of --source-ips.
func newSources(pool scenarios.SourceIPs) []*net.TCPAddr {
	out := make([]*net.TCPAddr, len(pool.Addrs))
	for i, a := range pool.Addrs {
		out[i] = net.TCPAddrFromAddrPort(netip.AddrPortFrom(a, 0))
	}
	return out
}

// ErrSource is wrapped by CheckSources' error.
var ErrSource = errors.New("probe: source address unusable")

// maxSourceChecks bounds the addresses CheckSources binds: enough to catch
// a pool that is not this machine's, without binding 65,536 sockets.
const maxSourceChecks = 64

// CheckSources checks that this machine can carry the plan, so that what
// it lacks is one clear error before the run rather than every request
// failing: the file descriptors the plan holds at once (checkFDs), and
// the --source-ips pool, binding a socket to some of its addresses (the
// first and last ones, and some between) and closing it.
func (r *Runner) CheckSources() error {
	if err := r.checkFDs(); err != nil {
		return err
	}
	n := len(r.sources)
	step := max(1, n/maxSourceChecks)
	for i := 0; i < n; i += step {
		if err := bindCheck(r.sources[i]); err != nil {
			return err
		}
	}
	if n > 0 {
		return bindCheck(r.sources[n-1])
	}
	return nil
}

func bindCheck(a *net.TCPAddr) error {
	ln, err := net.ListenTCP("tcp", a)
	if err != nil {
		return fmt.Errorf("%w: --source-ips: cannot bind %s on this machine (%v); add the address to an interface, or pick addresses this machine has", ErrSource, a.IP, err)
	}
	return ln.Close()
}
