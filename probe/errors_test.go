package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// rawServer listens on 127.0.0.1 and hands every connection to handle. It
// is closed, with its connections, when the test ends.
func rawServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// readRequest consumes one request's head, so that closing the connection
// afterwards sends a FIN, not a reset for unread data.
func readRequest(c net.Conn) {
	_, _ = http.ReadRequest(bufio.NewReader(c))
}

// closedPort returns a loopback address nothing listens on. It uses
// 127.0.0.2, which no test binds: a port just released on 127.0.0.1 may be
// handed at once to a parallel test's listener.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// fakeDNS answers every query on 127.0.0.1 with NXDOMAIN, so a lookup
// fails the way it does for a name that does not exist, without a packet
// leaving the machine.
func fakeDNS(t *testing.T, queries *atomic.Int64) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RecursionAvailable: true, RCode: dnsmessage.RCodeNameError})
			_ = b.StartQuestions()
			_ = b.Question(q)
			msg, err := b.Finish()
			if err == nil {
				queries.Add(1)
				_, _ = pc.WriteTo(msg, from)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().String()
}

// fetch sends one GET through the probe's own client (a fresh
// connection), reads the body and returns the first error. ctx stops it
// as the run's context stops a run.
func fetch(ctx context.Context, d *dialer, rawURL string, timeout time.Duration) error {
	spec := scenarios.Default()
	spec.Timeout = timeout
	d.Timeout = timeout
	u, err := scenarios.ParseURL(rawURL)
	if err != nil {
		return err
	}
	c := newClient(spec, d, nil)
	t := newTarget(spec, u, d, true, 0)
	w := newWorker()
	stop := context.AfterFunc(ctx, w.stop)
	defer stop()
	var ev Event
	rep, err := c.exchange(ctx, w, t, nil, -1, nil, bodyRead, &ev)
	if err != nil {
		return err
	}
	return rep.bodyErr
}

func TestClassifyErrorRealFailures(t *testing.T) {
	hang := func(c net.Conn) { readRequest(c); _, _ = io.Copy(io.Discard, c) } // never answers
	tests := []struct {
		name string
		// url returns the target; it may start servers.
		url func(t *testing.T) string
		// ctx returns the run's context and the request's context.
		ctx      func(t *testing.T) (runCtx, reqCtx context.Context)
		timeout  time.Duration // transport timeouts (dial, response headers)
		resolver bool          // resolve names with fakeDNS
		want     ErrorKind
	}{
		{
			name: "refused by a closed port",
			url:  func(t *testing.T) string { return "http://" + closedPort(t) + "/" },
			want: ErrRefused,
		},
		{
			name: "timeout from the request context",
			url:  func(t *testing.T) string { return "http://" + rawServer(t, hang) + "/" },
			ctx: func(t *testing.T) (context.Context, context.Context) {
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				t.Cleanup(cancel)
				return context.Background(), ctx
			},
			want: ErrTimeout,
		},
		{
			name:    "timeout awaiting response headers",
			url:     func(t *testing.T) string { return "http://" + rawServer(t, hang) + "/" },
			timeout: 100 * time.Millisecond,
			want:    ErrTimeout,
		},
		{
			name: "eof: accepts and closes",
			url: func(t *testing.T) string {
				return "http://" + rawServer(t, func(c net.Conn) { readRequest(c); c.Close() }) + "/"
			},
			want: ErrEOF,
		},
		{
			name: "eof: closes mid-response",
			url: func(t *testing.T) string {
				return "http://" + rawServer(t, func(c net.Conn) {
					readRequest(c)
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
					c.Close()
				}) + "/"
			},
			want: ErrEOF,
		},
		{
			name: "reset: closes with RST",
			url: func(t *testing.T) string {
				return "http://" + rawServer(t, func(c net.Conn) {
					readRequest(c)
					_ = c.(*net.TCPConn).SetLinger(0)
					c.Close()
				}) + "/"
			},
			want: ErrReset,
		},
		{
			name: "reset mid-response",
			url: func(t *testing.T) string {
				return "http://" + rawServer(t, func(c net.Conn) {
					readRequest(c)
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
					time.Sleep(20 * time.Millisecond)
					_ = c.(*net.TCPConn).SetLinger(0)
					c.Close()
				}) + "/"
			},
			want: ErrReset,
		},
		{
			name: "protocol: not HTTP",
			url: func(t *testing.T) string {
				return "http://" + rawServer(t, func(c net.Conn) {
					readRequest(c)
					_, _ = io.WriteString(c, "HELLO\r\n\r\n")
					c.Close()
				}) + "/"
			},
			want: ErrProtocol,
		},
		{
			name: "protocol: bad status code",
			url: func(t *testing.T) string {
				return "http://" + rawServer(t, func(c net.Conn) {
					readRequest(c)
					_, _ = io.WriteString(c, "HTTP/1.1 abc OK\r\n\r\n")
					c.Close()
				}) + "/"
			},
			want: ErrProtocol,
		},
		{
			name: "tls: plain HTTP server",
			url: func(t *testing.T) string {
				srv := httptest.NewServer(http.NotFoundHandler())
				t.Cleanup(srv.Close)
				return "https://" + srv.Listener.Addr().String() + "/"
			},
			want: ErrTLS,
		},
		{
			name: "tls: unknown authority",
			url: func(t *testing.T) string {
				srv := httptest.NewTLSServer(http.NotFoundHandler())
				srv.Config.ErrorLog = discardLog()
				t.Cleanup(srv.Close)
				return srv.URL + "/"
			},
			want: ErrTLS,
		},
		{
			name: "canceled: the run was stopped",
			url:  func(t *testing.T) string { return "http://" + rawServer(t, hang) + "/" },
			ctx: func(t *testing.T) (context.Context, context.Context) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(50*time.Millisecond, cancel)
				t.Cleanup(cancel)
				return ctx, ctx
			},
			want: ErrCanceled,
		},
		{
			name: "dns: the name does not exist",
			url: func(t *testing.T) string {
				return "http://nonexistent.invalid:" + portOf(t, closedPort(t)) + "/"
			},
			resolver: true,
			want:     ErrDNS,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runCtx, reqCtx := context.Background(), context.Background()
			if tt.ctx != nil {
				runCtx, reqCtx = tt.ctx(t)
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			d := newDialer(scenarios.Default())
			var queries atomic.Int64
			if tt.resolver {
				dns := fakeDNS(t, &queries)
				d.Resolver = &net.Resolver{
					PreferGo: true,
					Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
						var nd net.Dialer
						return nd.DialContext(ctx, "udp", dns)
					},
				}
			}
			err := fetch(reqCtx, d, tt.url(t), timeout)
			if err == nil {
				t.Fatal("request succeeded, want an error")
			}
			t.Logf("error: %v", err)
			if tt.resolver && queries.Load() == 0 {
				t.Error("the fake DNS server got no query")
			}
			if got := classifyError(runCtx, err); got != tt.want {
				t.Errorf("classifyError(%v) = %q, want %q", err, got, tt.want)
			}
		})
	}
}

func TestClassifyErrorValues(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		runCtx context.Context
		err    error
		want   ErrorKind
	}{
		{name: "deadline", runCtx: context.Background(), err: fmt.Errorf("get: %w", context.DeadlineExceeded), want: ErrTimeout},
		{name: "canceled run", runCtx: canceled, err: context.Canceled, want: ErrCanceled},
		{name: "canceled run masks any error", runCtx: canceled, err: io.EOF, want: ErrCanceled},
		{name: "dns error", runCtx: context.Background(), err: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, want: ErrDNS},
		{name: "unexpected EOF", runCtx: context.Background(), err: fmt.Errorf("body: %w", io.ErrUnexpectedEOF), want: ErrEOF},
		{name: "unknown", runCtx: context.Background(), err: errors.New("something else"), want: ErrOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classifyError(tt.runCtx, tt.err); got != tt.want {
				t.Errorf("classifyError(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// discardLog silences a test server's log of the handshakes the tests
// make fail on purpose.
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
