package probe

import (
	"errors"
	"strings"
	"syscall"
)

// Reasons of protocol errors: what was wrong with the answer, in a few
// stable words. Event.Detail keeps the error's text, which may quote the
// server's bytes; a reason never does, so reports can show and count it.
const (
	ReasonChunked     = "malformed chunked encoding"
	ReasonHeader      = "malformed header"
	ReasonStatusLine  = "malformed status line"
	ReasonHeadersSize = "response headers too large"
	ReasonH2cOverH1   = "HTTP/2 spoken to an HTTP/1.1 server"
	ReasonNoH2        = "the server did not negotiate HTTP/2"
	ReasonNoH2Answer  = "no HTTP/2 answer to the preface"
	ReasonEncoding    = "unsupported transfer encoding"
	ReasonRedirects   = "redirect loop"
)

// protocolPatterns map the texts net/http's reader and HTTP/2 client fail
// with (plain strings, not typed errors) to their reason. The first match
// wins, so the h2c case comes before the header ones its text contains.
var protocolPatterns = []struct{ text, reason string }{
	{"looked like an HTTP/1.1 header", ReasonH2cOverH1},
	{"redirects (a redirect loop)", ReasonRedirects},
	{"did not negotiate HTTP/2", ReasonNoH2},
	{"client conn could not be established", ReasonNoH2Answer}, // the connection died before a word of HTTP/2
	{"chunked encoding", ReasonChunked},
	{"chunk length", ReasonChunked},
	{"chunked line", ReasonChunked},
	{"server response headers exceeded", ReasonHeadersSize},
	{"message too large", ReasonHeadersSize},
	{"header line too long", ReasonHeadersSize},
	{"malformed MIME header", ReasonHeader},
	{"invalid header", ReasonHeader},
	{"malformed HTTP response", ReasonStatusLine},
	{"malformed HTTP status code", ReasonStatusLine},
	{"malformed HTTP version", ReasonStatusLine},
	{"bad status", ReasonStatusLine},
	{"Content-Length", ReasonHeader}, // invalid, or several that differ
	{"unsupported transfer", ReasonEncoding},
	{"too many transfer encodings", ReasonEncoding},
}

// protocolReason is the reason of a protocol error's text, "" when the text
// is not one.
func protocolReason(msg string) string {
	for _, p := range protocolPatterns {
		if strings.Contains(msg, p.text) {
			return p.reason
		}
	}
	return ""
}

// localErrnos are the errors a machine gives when it runs out of what a
// connection needs. They say nothing about the target: the request never
// reached it, or could not be read for want of memory.
var localErrnos = []struct {
	errno syscall.Errno
	name  string
}{
	{syscall.EMFILE, "EMFILE: too many open files (ulimit -n)"},
	{syscall.ENFILE, "ENFILE: the system's file table is full"},
	{syscall.ENOBUFS, "ENOBUFS: no buffer space"},
	{syscall.ENOMEM, "ENOMEM: out of memory"},
	{syscall.EADDRNOTAVAIL, "EADDRNOTAVAIL: no local address or port left"},
	{syscall.EADDRINUSE, "EADDRINUSE: no local port left"},
}

// localErrno names the local resource err ran out of, "" if none.
func localErrno(err error) string {
	for _, l := range localErrnos {
		if errors.Is(err, l.errno) {
			return l.name
		}
	}
	return ""
}

// ErrorReason is the stable reason of an error of kind with Event.Detail
// detail: for a protocol error, what was wrong with the answer; for a
// local one, what the machine ran out of; "" for other kinds or when the
// text says nothing more.
func ErrorReason(kind ErrorKind, detail string) string {
	switch kind {
	case ErrProtocol:
		return protocolReason(detail)
	case ErrLocal:
		for _, l := range localErrnos {
			if strings.Contains(detail, l.errno.Error()) {
				return l.name
			}
		}
	}
	return ""
}
