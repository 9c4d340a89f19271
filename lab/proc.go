package lab

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"
)

// This file holds the load-balancer-agnostic plumbing for running a server
// binary in the foreground: bounded output capture, start, bounded stop,
// and "is it really proxying yet" readiness. New LB kinds reuse it.

const (
	stopTimeout = 3 * time.Second        // SIGTERM grace period, then SIGKILL
	readyPoll   = 20 * time.Millisecond  // readiness polling interval
	readyDial   = 500 * time.Millisecond // per-attempt timeout while polling
)

// boundedBuffer keeps only the last max bytes written to it, so a chatty or
// long-running process cannot grow memory without bound.
type boundedBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func newBoundedBuffer(max int) *boundedBuffer { return &boundedBuffer{max: max} }

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// process is one run of a foreground server binary.
type process struct {
	cmd  *exec.Cmd
	out  *boundedBuffer // this run's output only, for error messages
	done chan struct{}  // closed once the process has been reaped
	err  error          // Wait's result; read only after done is closed
}

// startProcess runs bin in its own process group, teeing its stdout and
// stderr into logs (shared across runs) and into a per-run buffer. extra
// become the child's descriptors 3, 4, ... A goroutine reaps it as soon as
// it exits, so it never lingers as a zombie.
func startProcess(bin string, args []string, logs io.Writer, extra ...*os.File) (*process, error) {
	return startProcessEnv(bin, args, nil, logs, extra...)
}

// startProcessEnv is startProcess with env added to this process's
// environment (e.g. where Caddy keeps its data).
func startProcessEnv(bin string, args, env []string, logs io.Writer, extra ...*os.File) (*process, error) {
	p := &process{out: newBoundedBuffer(16 << 10), done: make(chan struct{})}
	w := io.MultiWriter(logs, p.out)
	// Deliberately not exec.CommandContext: the caller's ctx bounds startup,
	// not the lifetime of the server.
	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = sysProcAttr()
	// If a stray child kept our output pipes open, don't let Wait hang.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p.cmd = cmd
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, waits up to stopTimeout, then
// SIGKILLs the group and waits (bounded) for the reaper. Safe to call on a
// process that already exited.
func (p *process) stop() error {
	if p.exited() {
		return nil
	}
	pid := p.cmd.Process.Pid
	_ = terminateGroup(pid)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
	}
	_ = killGroup(pid)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("process %d did not exit after SIGKILL", pid)
	}
}

// errExited means the server process died before it became ready.
var errExited = errors.New("process exited before it was ready")

// waitProxying polls url until a response carries an X-Backend header,
// proving the load balancer accepts connections and reaches a backend (in
// tcp mode the backend's header passes through unchanged). It gives up when
// the process exits, ctx ends, or timeout passes.
func waitProxying(ctx context.Context, p *process, url string, timeout time.Duration) error {
	// A TLS frontend's certificate is the lab's own (Caddy's internal CA).
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: readyDial}
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if p.exited() {
			return fmt.Errorf("%w (%v)", errExited, p.err)
		}
		last = probeOnce(ctx, client, url)
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s; last attempt: %v", timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
		case <-time.After(readyPoll):
		}
	}
}

func probeOnce(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.Header.Get("X-Backend") == "" {
		return fmt.Errorf("response %q has no X-Backend header", resp.Status)
	}
	return nil
}
