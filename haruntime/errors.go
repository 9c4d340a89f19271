package haruntime

import "errors"

// The ways an exchange with the Runtime API fails. Client wraps them with
// the address and command, so errors.Is tells the kind and Error() the
// details.
var (
	// ErrUnreachable: nothing listens there (no such socket file,
	// connection refused), or the connection broke.
	ErrUnreachable = errors.New("HAProxy runtime API unreachable")
	// ErrTimeout: no complete reply within the timeout; a socket that
	// accepts and then stays silent ends here, not in a hang.
	ErrTimeout = errors.New("HAProxy runtime API timed out")
	// ErrTooLarge: the reply exceeded the client's size limit.
	ErrTooLarge = errors.New("HAProxy runtime API reply too large")
	// ErrGarbage: something answered, but not in HAProxy's format (an
	// empty reply, a missing header line, a malformed row).
	ErrGarbage = errors.New("not a HAProxy runtime API reply")
	// ErrPermission: the socket file is not ours to open, or the socket's
	// level is too low for the command (`level user` hides stick table
	// contents).
	ErrPermission = errors.New("HAProxy runtime API permission denied")
	// ErrNotFound: HAProxy has no such backend or table.
	ErrNotFound = errors.New("HAProxy has no such backend or table")
	// ErrRefused: HAProxy did not accept the command (an older version
	// that lacks it, or bad arguments).
	ErrRefused = errors.New("HAProxy refused the command")
	// ErrNotAllowed: the command is not on the read-only allow-list; it
	// was never sent.
	ErrNotAllowed = errors.New("command not allowed: this client only reads")
)
