package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// ErrorKind is a small, stable set of failure classes, so reports and
// metrics can count them without leaking error strings into labels.
type ErrorKind string

const (
	ErrTimeout  ErrorKind = "timeout"  // no answer within --timeout
	ErrRefused  ErrorKind = "refused"  // connection refused: nothing listening
	ErrReset    ErrorKind = "reset"    // connection reset by the peer
	ErrEOF      ErrorKind = "eof"      // connection closed before a full response
	ErrDNS      ErrorKind = "dns"      // the host name did not resolve
	ErrTLS      ErrorKind = "tls"      // handshake or certificate failure
	ErrProtocol ErrorKind = "protocol" // the answer was not valid HTTP
	ErrHTTP5xx  ErrorKind = "http-5xx" // the LB or the backend answered 5xx
	ErrCanceled ErrorKind = "canceled" // cut: the probe stopped the request itself (see cut); never emitted
	ErrLocal    ErrorKind = "local"    // the probe's own machine failed the request (file descriptors, ports, buffers); not the target's fault
	ErrOther    ErrorKind = "other"
)

// classifyError sorts a transport error into an ErrorKind. runCtx is the
// run's context: a request cut short by the probe itself is canceled, not
// a timeout.
func classifyError(runCtx context.Context, err error) ErrorKind {
	if cut(runCtx) {
		return ErrCanceled
	}
	if localErrno(err) != "" {
		return ErrLocal
	}
	if protocolReason(err.Error()) != "" {
		// Before the EOF check: net/http's HTTP/2 client wraps the EOF
		// of an HTTP/1.1 answer in the error that says so.
		return ErrProtocol
	}
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		unkErr  x509.UnknownAuthorityError
		hostErr x509.HostnameError
		invErr  x509.CertificateInvalidError
		alert   tls.AlertError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return ErrTimeout
	case errors.As(err, &dnsErr):
		return ErrDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ErrReset
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &unkErr),
		errors.As(err, &hostErr), errors.As(err, &invErr), errors.As(err, &alert):
		return ErrTLS
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrEOF
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return ErrTimeout
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "malformed HTTP"), strings.Contains(msg, "invalid header"),
		strings.Contains(msg, "unsupported transfer"), strings.Contains(msg, "bad status"):
		// net/http returns these as plain strings.
		return ErrProtocol
	case strings.Contains(msg, "tls:"), strings.Contains(msg, "x509:"):
		return ErrTLS
	}
	return ErrOther
}

// cut reports whether the probe itself stopped the run's requests: runCtx
// (the run's context) was canceled (Ctrl-C, a monitor cycle's end) or its
// deadline (--max-duration) has passed. The deadline is read too, because
// a dial fails with "i/o timeout" the moment it passes, before the
// context's own timer marks it done: that request is cut, not the LB's
// timeout.
func cut(runCtx context.Context) bool {
	if runCtx.Err() != nil {
		return true
	}
	d, ok := runCtx.Deadline()
	return ok && !time.Now().Before(d)
}

// Cut counts the requests the probe cut itself (see cut): they were sent
// but their answer, if any, is not known, so they are not emitted, not
// errors, and say nothing about the target.
func (r *Runner) Cut() int64 { return r.cut.Load() }
