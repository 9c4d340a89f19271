package lab

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// backendRebindTimeout bounds how long Start waits for the old address to
// become bindable again.
const backendRebindTimeout = 2 * time.Second

// BackendOptions tunes what a Backend does besides naming itself.
type BackendOptions struct {
	// AppCookie, if non-empty, is the name of an application session cookie
	// the backend sets (random value, Path=/, HttpOnly) on any request that
	// does not carry it. It lets tests exercise HAProxy setups that stick on
	// an application cookie (`stick store-response res.cook(NAME)`).
	AppCookie string
	// AppCookieValue, if set, makes the values of AppCookie; nil draws
	// random ones. Tests that must find a secret wherever it leaks give
	// values they can recognise. It is called from concurrent requests.
	AppCookieValue func() string
	// EchoAuthorization copies the request's Authorization header into the
	// response as X-Echo-Authorization, the way debug endpoints echo what
	// they get. Off by default (see handle); tests use it to prove that a
	// credential is redacted wherever it comes back.
	EchoAuthorization bool
}

// Backend is a real HTTP server on 127.0.0.1 (net/http on a real TCP socket)
// that answers every request with its own name, so a client can tell which
// server a load balancer picked.
type Backend struct {
	name     string
	instance string // random, per Backend: tells this backend from another on a reused port
	opts     BackendOptions
	addr     string // fixed at creation so Start can come back on the same address
	requests atomic.Int64

	mu     sync.Mutex // guards srv and served across Stop/Start
	srv    *http.Server
	served chan struct{} // closed when the current Serve call returns
}

// StartBackend starts a backend called name on 127.0.0.1 with a
// kernel-chosen port.
func StartBackend(name string, opts BackendOptions) (*Backend, error) {
	if name == "" || strings.ContainsAny(name, "\r\n\x00") || strings.TrimSpace(name) != name {
		return nil, fmt.Errorf("lab: invalid backend name %q", name)
	}
	if opts.AppCookie != "" && (&http.Cookie{Name: opts.AppCookie, Value: "x"}).Valid() != nil {
		return nil, fmt.Errorf("lab: invalid AppCookie name %q", opts.AppCookie)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lab: start backend %s: %w", name, err)
	}
	b := &Backend{name: name, instance: randomToken(), opts: opts, addr: ln.Addr().String()}
	b.serve(ln)
	return b, nil
}

// Name is the backend's identity, sent in the X-Backend header.
func (b *Backend) Name() string { return b.name }

// Instance is a random id the backend sends in X-Lab-Instance. Names repeat
// across labs (server1, server2, ...) and ports are reused by the kernel,
// so only the instance says that a response came from this very backend.
func (b *Backend) Instance() string { return b.instance }

// Addr is "127.0.0.1:PORT"; it does not change across Stop/Start.
func (b *Backend) Addr() string { return b.addr }

// Requests is the number of HTTP requests served so far (across restarts).
// Load balancer health checks here are plain TCP connects and do not count.
func (b *Backend) Requests() int64 { return b.requests.Load() }

// Running reports whether the backend is currently accepting connections.
func (b *Backend) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.srv != nil
}

// Stop closes the listener and every open connection, which is what a
// crashed server looks like from the load balancer's side. It is idempotent.
func (b *Backend) Stop() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv == nil {
		return nil
	}
	err := b.srv.Close()
	<-b.served // Close makes Serve return promptly; wait so the port is really released
	b.srv, b.served = nil, nil
	return err
}

// Start brings a stopped backend back on the same address. It retries the
// bind briefly because the port may not be reusable instantly. Starting a
// running backend is a no-op.
func (b *Backend) Start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv != nil {
		return nil
	}
	ln, err := listenRetry(b.addr, backendRebindTimeout)
	if err != nil {
		return fmt.Errorf("lab: restart backend %s: %w", b.name, err)
	}
	b.serveLocked(ln)
	return nil
}

func (b *Backend) serve(ln net.Listener) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.serveLocked(ln)
}

func (b *Backend) serveLocked(ln net.Listener) {
	srv := &http.Server{
		Handler:           http.HandlerFunc(b.handle),
		ReadHeaderTimeout: 5 * time.Second,
		// Connection errors are expected (Stop cuts connections on purpose)
		// and would only clutter test and CLI output.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	served := make(chan struct{})
	b.srv, b.served = srv, served
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = ln.Close()
		}
	}()
}

// handle answers every method the same way. It deliberately echoes nothing
// from the request (no headers, cookies or body) so lab output never leaks
// what a client sent, unless a test asks for EchoAuthorization.
func (b *Backend) handle(w http.ResponseWriter, r *http.Request) {
	b.requests.Add(1)
	// Drain a bounded amount of any request body so keep-alive keeps working
	// for POSTs without letting a client make us read forever.
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))

	h := w.Header()
	if name := b.opts.AppCookie; name != "" {
		if _, err := r.Cookie(name); err != nil {
			value := randomToken()
			if b.opts.AppCookieValue != nil {
				value = b.opts.AppCookieValue()
			}
			http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true})
		}
	}
	if auth := r.Header.Get("Authorization"); b.opts.EchoAuthorization && auth != "" {
		h.Set("X-Echo-Authorization", auth)
	}
	body := "backend: " + b.name + "\n"
	h.Set("X-Backend", b.name)
	h.Set("X-Lab-Instance", b.instance)
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, body)
	}
}

// randomToken returns an unguessable session value, like a real app would.
func randomToken() string {
	var buf [16]byte
	_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(buf[:])
}

// StartBackends starts n backends called server1..serverN with opts, the
// lab's usual set. On error the ones already started are stopped.
func StartBackends(n int, opts BackendOptions) ([]*Backend, error) {
	var out []*Backend
	for i := 1; i <= n; i++ {
		b, err := StartBackend("server"+strconv.Itoa(i), opts)
		if err != nil {
			return nil, errors.Join(err, StopBackends(out))
		}
		out = append(out, b)
	}
	return out, nil
}

// StopBackends stops every backend given.
func StopBackends(backends []*Backend) error {
	var errs []error
	for _, b := range backends {
		errs = append(errs, b.Stop())
	}
	return errors.Join(errs...)
}
