package probe

import "strconv"

// MarkHeader is the request header that names the probe's request to the
// load balancer's log: HAProxy's `capture request header
// X-Stickyprobe-Mark len 96` (or a `unique-id-format` with
// %[req.hdr(X-Stickyprobe-Mark)]) writes it into each log line, so
// `stickyprobe logs --events` finds the very line of every request.
const MarkHeader = "X-Stickyprobe-Mark"

// WithMark marks every request with MarkHeader: "RUN/SESSION/SEQ". run
// tells runs apart by eye (the command line gives the seed); "" marks
// nothing.
func WithMark(run string) Option { return func(r *Runner) { r.mark = run } }

// MarkValue is the mark of one request.
func MarkValue(run string, session, seq int) string {
	return run + "/" + strconv.Itoa(session) + "/" + strconv.Itoa(seq)
}

// appendMark adds the mark header to a request head that ends with its
// empty line.
func appendMark(b []byte, run string, ev *Event) []byte {
	if run == "" || len(b) < 2 {
		return b
	}
	b = b[:len(b)-2]
	b = append(b, MarkHeader...)
	b = append(b, ": "...)
	b = append(b, run...)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(ev.Session), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(ev.Seq), 10)
	return append(b, "\r\n\r\n"...)
}
