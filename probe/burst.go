package probe

import (
	"context"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// A browser opening a page fires several requests at once, before the
// first Set-Cookie has come back: none of them carries the affinity token,
// so a load balancer that balances per request can send one user's first
// requests to different servers, and the user's session is split at
// birth. --burst N plays that race: each session's first N requests are
// sent together, on fresh connections or (--http2) multiplexed over one
// HTTP/2 connection, then the session goes on one request at a time.

// burstSize is how many requests session s sends at once now: its first
// Burst requests, within what the phase has left, else 1.
func (r *Runner) burstSize(ph *phase, s *session) int {
	if r.spec.Burst <= 1 || s.seq != 0 {
		return 1
	}
	return min(r.spec.Burst, ph.left(s))
}

// burst sends the first n requests of session s at once and emits their
// events in request order. Each has its own connection (or stream) and
// worker; all carry what the jar held before any of them was answered,
// which is nothing for a new session. Their responses are stored in the
// jar in the order they arrive, as a browser stores them: the last one to
// set the token decides where the session goes next.
func (r *Runner) burst(ctx context.Context, w *worker, ph *phase, s *session, n int, out chan<- Event) {
	if !r.take(ctx, n) {
		return
	}
	defer r.give(n)
	for range n {
		if err := r.pacer.Wait(ctx); err != nil {
			return
		}
	}
	if ph.over(time.Now()) {
		return
	}
	calls := make([]call, n)
	for i := range calls {
		calls[i] = r.prepare(ph, s, s.seq+i, int(s.done)+i)
		calls[i].ev.Burst = true
	}
	var h2 *h2conn
	if r.spec.HTTP2 {
		h2 = r.burstH2(ctx, s, calls)
	}
	done := make(chan int, n)
	for i := range calls {
		bw := w
		if i > 0 {
			bw = newWorker()
		}
		go func() {
			if bw != w {
				// The run's stop reaches the workers it started; this
				// one lives for one request.
				defer context.AfterFunc(ctx, bw.stop)()
			}
			r.send(ctx, bw, &calls[i], h2)
			done <- i
		}()
	}
	for range n {
		i := <-done
		r.followRedirects(ctx, s, &calls[i])
		r.finish(ctx, s, &calls[i])
	}
	if h2 != nil {
		r.keepH2(s, h2)
	}
	r.advance(ph, s, n)
	delivered := false
	for i := range calls {
		if calls[i].ev.Error == ErrCanceled {
			r.cut.Add(1)
			continue
		}
		delivered = true
		out <- calls[i].ev
	}
	if delivered {
		s.after = ""
	}
}

// keepH2 keeps the burst's HTTP/2 connection as the session's own under
// --conn session, and closes it otherwise.
func (r *Runner) keepH2(s *session, h2 *h2conn) {
	if r.spec.Conn == scenarios.ConnSession && s.h2 == nil && h2.usable() {
		s.h2 = h2
		return
	}
	if s.h2 != h2 {
		h2.close()
	}
}
