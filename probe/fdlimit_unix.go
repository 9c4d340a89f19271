//go:build unix

package probe

import "syscall"

// raiseFDLimit raises the soft limit on open files to need, or as far as
// the hard limit allows, and returns the limits as they then are. ok is
// false when the limits cannot be read.
func raiseFDLimit(need uint64) (soft, hard uint64, ok bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, 0, false
	}
	if lim.Cur < need && lim.Cur < lim.Max {
		raised := lim
		raised.Cur = min(need, lim.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			lim = raised
		}
	}
	return uint64(lim.Cur), uint64(lim.Max), true
}
