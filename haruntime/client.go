package haruntime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// Defaults for Client: a local HAProxy answers `show stat` for a few
// hundred servers in milliseconds and well under a megabyte.
const (
	DefaultTimeout  = 2 * time.Second
	DefaultMaxReply = 4 << 20
)

// Client sends one read-only command per connection, as HAProxy's
// non-interactive mode expects: write the command and a newline, read
// until HAProxy closes. The zero Timeout and MaxReply mean the defaults.
// A Client is safe for concurrent use.
type Client struct {
	Addr     Addr
	Timeout  time.Duration // dial plus the whole reply
	MaxReply int           // bytes
}

// NewClient returns a client for addr with the default limits.
func NewClient(addr Addr) *Client { return &Client{Addr: addr} }

// Query sends cmd, which must pass CheckCommand, and returns the reply.
// A reply that is one of HAProxy's error messages comes back as
// ErrPermission, ErrNotFound or ErrRefused with the message.
func (c *Client) Query(ctx context.Context, cmd string) (string, error) {
	if err := CheckCommand(cmd); err != nil {
		return "", err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	reply, err := c.exchange(ctx, cmd)
	if err != nil {
		return "", fmt.Errorf("%s: %q: %w", c.Addr, cmd, err)
	}
	if err := replyError(reply); err != nil {
		return "", fmt.Errorf("%s: %q: %w", c.Addr, cmd, err)
	}
	return reply, nil
}

func (c *Client) exchange(ctx context.Context, cmd string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, c.Addr.Network, c.Addr.Address)
	if err != nil {
		return "", dialError(ctx, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", ioError(ctx, err)
	}
	max := c.MaxReply
	if max <= 0 {
		max = DefaultMaxReply
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(conn, int64(max)+1))
	if err != nil {
		return "", ioError(ctx, err)
	}
	if n > int64(max) {
		return "", fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	if n == 0 {
		return "", fmt.Errorf("%w: the connection closed without a reply", ErrGarbage)
	}
	return buf.String(), nil
}

func dialError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, os.ErrPermission), errors.Is(err, syscall.EACCES):
		return fmt.Errorf("%w: %v", ErrPermission, err)
	case ctx.Err() != nil, isTimeout(err):
		return fmt.Errorf("%w: %v", ErrTimeout, err)
	}
	return fmt.Errorf("%w: %v", ErrUnreachable, err)
}

func ioError(ctx context.Context, err error) error {
	if ctx.Err() != nil || isTimeout(err) {
		return fmt.Errorf("%w: %v", ErrTimeout, err)
	}
	return fmt.Errorf("%w: %v", ErrUnreachable, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// replyError recognises HAProxy 2.6's error replies, which come as plain
// text in place of the data.
func replyError(reply string) error {
	first, _, _ := bytes.Cut([]byte(reply), []byte("\n"))
	line := string(first)
	switch {
	case hasPrefix(line, "Permission denied"):
		return fmt.Errorf("%w: %s", ErrPermission, line)
	case hasPrefix(line, "Can't find backend"), hasPrefix(line, "No such table"),
		hasPrefix(line, "No such backend"), hasPrefix(line, "Can't find"):
		return fmt.Errorf("%w: %s", ErrNotFound, line)
	case hasPrefix(line, "Unknown command"):
		return fmt.Errorf("%w: %s", ErrRefused, line)
	}
	return nil
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
