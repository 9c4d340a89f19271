package probe

import (
	"errors"
	"fmt"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// ErrFDLimit is wrapped by the error of a plan that needs more file
// descriptors than the process may open.
var ErrFDLimit = errors.New("probe: not enough file descriptors")

// fdReserve are the descriptors a run needs besides its connections:
// standard streams, output files, the poller, a resolver's socket.
const fdReserve = 32

// FDNeed is how many file descriptors the spec's run may hold at once:
// one connection per request in flight; under --conn session (and with
// --http2 too) each session's own connection, kept between its requests;
// under --conn shared an idle pool as large as --concurrency on top.
func FDNeed(spec scenarios.Spec) int {
	conns := spec.Concurrency
	switch spec.Conn {
	case scenarios.ConnSession:
		conns = max(conns, spec.Sessions+spec.Control())
	case scenarios.ConnShared:
		conns = spec.Concurrency * (1 + max(1, len(spec.Nodes()))) // in flight, and each frontend's idle pool
	}
	return conns + fdReserve
}

// checkFDs makes room for the plan's file descriptors: it raises the
// soft limit towards the hard one, as any process may, and refuses, with
// the numbers, a plan that still does not fit. Without the check the run
// goes ahead and its requests fail with EMFILE, for want of what the
// machine gives, not the target.
func (r *Runner) checkFDs() error {
	need := FDNeed(r.spec)
	soft, hard, ok := raiseFDLimit(uint64(need))
	if !ok || uint64(need) <= soft {
		return nil
	}
	return fmt.Errorf("%w: this plan holds up to %d file descriptors at once (%d connections under --conn %s, "+
		"--concurrency %d, %d sessions, + %d for the probe), but the process may open %d (ulimit -n; hard limit %d): "+
		"raise the limit (ulimit -n %d) or lower --concurrency (with --conn session, --sessions)",
		ErrFDLimit, need, need-fdReserve, r.spec.Conn, r.spec.Concurrency, r.spec.Sessions+r.spec.Control(), fdReserve,
		soft, hard, need)
}
