package probe

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// TestRequestBytesAsNetHTTP checks that the request the client writes is,
// header for header, the one net/http wrote for the probe's http.Request
// (Host, User-Agent, --header, cookies through AddCookie, Connection:
// close with a fresh connection per request).
func TestRequestBytesAsNetHTTP(t *testing.T) {
	jar := []*http.Cookie{
		{Name: "SERVERID", Value: "s1"},
		{Name: "JSESSIONID", Value: "a b", Quoted: false},
		{Name: "q", Value: "v", Quoted: true},
		{Name: "c", Value: "x,y"},
	}
	tests := []struct {
		name    string
		url     string
		headers []string
		jar     []*http.Cookie
		fresh   bool
	}{
		{name: "plain", url: "http://app.test:8080/"},
		{name: "fresh", url: "http://app.test/", fresh: true},
		{name: "path and query", url: "http://app.test/a/b%20c?x=1&y=2"},
		{name: "jar cookies", url: "http://app.test/", jar: jar},
		{name: "headers", url: "http://app.test/", headers: []string{"X-B: 2", "X-A: 1", "X-A: 0", "User-Agent: mine", "Accept: */*"}, jar: jar[:1]},
		{name: "host header", url: "http://127.0.0.1:9/", headers: []string{"Host: shop.example"}},
		{name: "user cookie and jar", url: "http://app.test/", headers: []string{"Cookie: u=1", "Cookie: w=2"}, jar: jar[:2]},
		{name: "user cookies alone", url: "http://app.test/", headers: []string{"Cookie: u=1", "Cookie: w=2"}},
		{name: "ipv6", url: "http://[::1]:8080/"},
		{name: "idn", url: "http://bücher.example/"},
		{name: "user connection close", url: "http://app.test/", headers: []string{"Connection: close"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := testSpec(t, tt.url)
			for _, h := range tt.headers {
				hv, err := scenarios.ParseHeader(h)
				if err != nil {
					t.Fatal(err)
				}
				spec.Headers = append(spec.Headers, hv)
			}
			tg := newTarget(spec, spec.URLs[0], newDialer(spec), tt.fresh, 0)
			if tg.err != nil {
				t.Fatal(tg.err)
			}
			got := tg.appendRequest(nil, tt.jar)

			// The request as the probe built it before it spoke HTTP itself.
			req, err := http.NewRequest(http.MethodGet, spec.URLs[0].String(), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range spec.Headers {
				if h.Name == "Host" {
					req.Host = h.Value
					continue
				}
				req.Header.Add(h.Name, h.Value)
			}
			req.Header.Set("User-Agent", "stickyprobe")
			for _, c := range tt.jar {
				req.AddCookie(c)
			}
			req.Close = tt.fresh
			var want bytes.Buffer
			if err := req.Write(&want); err != nil {
				t.Fatal(err)
			}

			g, w := parseRequest(t, got), parseRequest(t, want.Bytes())
			if g.Method != w.Method || g.RequestURI != w.RequestURI || g.Host != w.Host || g.Close != w.Close {
				t.Errorf("got %s %s Host %q close %v, want %s %s Host %q close %v", g.Method, g.RequestURI, g.Host, g.Close, w.Method, w.RequestURI, w.Host, w.Close)
			}
			if !reflect.DeepEqual(g.Header, w.Header) {
				t.Errorf("headers\n got %v\nwant %v\nraw:\n%s", g.Header, w.Header, got)
			}
			for _, name := range []string{"SERVERID", "u", "w", "JSESSIONID"} {
				v, ok := tg.sentCookie(tt.jar, name)
				c, err := w.Cookie(name)
				if ok != (err == nil) || (ok && v != c.Value) {
					t.Errorf("sentCookie(%q) = %q, %v; net/http's request carries %v, %v", name, v, ok, c, err)
				}
			}
		})
	}
}

func parseRequest(t *testing.T, b []byte) *http.Request {
	t.Helper()
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("%v in:\n%s", err, b)
	}
	return req
}

// scripted serves each accepted connection with the next script: a list
// of raw responses, one per request read, then tail (if any) unasked,
// then it closes the connection. With hold set, the first connection
// waits for hold to close before its tail and close, and closes done
// after them.
type scripted struct {
	mu      sync.Mutex
	scripts [][]string
	tail    string
	conns   int
	hold    chan struct{}
	done    chan struct{}
}

func (s *scripted) handle(c net.Conn) {
	s.mu.Lock()
	i := s.conns
	s.conns++
	var script []string
	if i < len(s.scripts) {
		script = s.scripts[i]
	}
	s.mu.Unlock()
	defer c.Close()
	br := bufio.NewReader(c)
	for _, resp := range script {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		if _, err := io.WriteString(c, resp); err != nil {
			return
		}
	}
	if s.hold != nil && i == 0 {
		<-s.hold
		defer close(s.done)
	}
	if s.tail != "" {
		_, _ = io.WriteString(c, s.tail)
	}
	if s.hold == nil {
		// Read whatever comes next so that closing sends a FIN.
		_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, _ = io.Copy(io.Discard, br)
	}
	_ = c.(*net.TCPConn).CloseWrite() // the FIN, before done
}

func (s *scripted) accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

const okResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Backend: s1\r\n\r\nok"

// session sends n requests of one session under --conn session, with the
// given body mode, returning their events and errors.
func sessionRequests(t *testing.T, addr string, n int, mode bodyMode, between func(cn *conn)) ([]Event, []error) {
	t.Helper()
	spec := testSpec(t, "http://"+addr+"/")
	spec.Conn = scenarios.ConnSession
	d := newDialer(spec)
	c := newClient(spec, d, nil)
	tg := newTarget(spec, spec.URLs[0], d, false, 0)
	w := newWorker()
	var slot *conn
	t.Cleanup(func() {
		if slot != nil {
			slot.close()
		}
	})
	var evs []Event
	var errs []error
	for range n {
		var ev Event
		rep, err := c.exchange(context.Background(), w, tg, &slot, -1, nil, mode, &ev)
		if err == nil {
			err = rep.bodyErr
			ev.Status = rep.resp.StatusCode
		}
		evs, errs = append(evs, ev), append(errs, err)
		if between != nil && slot != nil {
			between(slot)
		}
	}
	return evs, errs
}

func TestClientKeepAlive(t *testing.T) {
	chunked := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
	big := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", maxDrain+1, strings.Repeat("x", maxDrain+1))
	exact := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", maxDrain, strings.Repeat("x", maxDrain))
	bigChunk := fmt.Sprintf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", maxDrain+1, strings.Repeat("x", maxDrain+1))
	tests := []struct {
		name    string
		scripts [][]string
		tail    string
		mode    bodyMode
		between func(*conn)
		reused  []bool
		conns   int
	}{
		{name: "reuse", scripts: [][]string{{okResponse, okResponse, okResponse}}, mode: bodyDrain,
			reused: []bool{false, true, true}, conns: 1},
		{name: "chunked body drained, connection reused", scripts: [][]string{{chunked, chunked}}, mode: bodyDrain,
			reused: []bool{false, true}, conns: 1},
		{name: "body of exactly maxDrain bytes", scripts: [][]string{{exact, exact}}, mode: bodyDrain,
			reused: []bool{false, true}, conns: 1},
		{name: "body longer than maxDrain costs the connection", scripts: [][]string{{big}, {big}}, mode: bodyDrain,
			reused: []bool{false, false}, conns: 2},
		{name: "chunked body longer than maxDrain costs the connection", scripts: [][]string{{bigChunk}, {bigChunk}}, mode: bodyDrain,
			reused: []bool{false, false}, conns: 2},
		{name: "body identity reads and reuses", scripts: [][]string{{chunked, okResponse}}, mode: bodyRead,
			reused: []bool{false, true}, conns: 1},
		{name: "server says close", scripts: [][]string{{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"}, {okResponse}},
			mode: bodyDrain, reused: []bool{false, false}, conns: 2},
		{name: "HTTP/1.0 closes", scripts: [][]string{{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"}, {okResponse}},
			mode: bodyDrain, reused: []bool{false, false}, conns: 2},
		{name: "1xx responses skipped", scripts: [][]string{{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + okResponse, okResponse}},
			mode: bodyDrain, reused: []bool{false, true}, conns: 1},
		{name: "closed by the server while idle: sent again on a new connection", scripts: [][]string{{okResponse}, {okResponse, okResponse}},
			mode: bodyDrain, reused: []bool{false, false, true}, conns: 2},
		{name: "stray bytes with the response: not reused", scripts: [][]string{{okResponse + "HTTP/1.1 408 Request Timeout\r\n\r\n"}, {okResponse}},
			mode: bodyDrain, reused: []bool{false, false}, conns: 2},
		{name: "stray bytes while idle: not reused", scripts: [][]string{{okResponse}, {okResponse}}, tail: "HTTP/1.1 408 Request Timeout\r\n\r\n",
			mode: bodyDrain, reused: []bool{false, false}, conns: 2},
		{name: "idle longer than a second: looked at, still good", scripts: [][]string{{okResponse, okResponse}}, mode: bodyDrain,
			between: func(cn *conn) { cn.idleAt = cn.idleAt.Add(-2 * staleCheckAfter) }, reused: []bool{false, true}, conns: 1},
		{name: "idle longer than the idle timeout: not reused", scripts: [][]string{{okResponse}, {okResponse}}, mode: bodyDrain,
			between: func(cn *conn) { cn.idleAt = cn.idleAt.Add(-2 * idleTimeout) }, reused: []bool{false, false}, conns: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &scripted{scripts: tt.scripts, tail: tt.tail}
			between := tt.between
			if strings.HasPrefix(tt.name, "stray bytes while") || strings.HasPrefix(tt.name, "closed by the server") {
				// Once the first response is read, let the server send its
				// bytes or FIN, then look at the connection as after a
				// second of idleness (stray bytes) or not at all (close:
				// the retry must cope).
				srv.hold, srv.done = make(chan struct{}), make(chan struct{})
				look := strings.HasPrefix(tt.name, "stray")
				first := true
				between = func(cn *conn) {
					if !first {
						return
					}
					first = false
					close(srv.hold)
					select {
					case <-srv.done:
					case <-time.After(10 * time.Second):
						t.Fatal("the server never finished its first connection")
					}
					if look {
						cn.idleAt = cn.idleAt.Add(-2 * staleCheckAfter)
					}
				}
			}
			addr := rawServer(t, srv.handle)
			evs, errs := sessionRequests(t, addr, len(tt.reused), tt.mode, between)
			for i, ev := range evs {
				if errs[i] != nil {
					t.Fatalf("request %d: %v", i, errs[i])
				}
				if ev.Status != 200 {
					t.Errorf("request %d: status %d, want 200", i, ev.Status)
				}
				if ev.Reused != tt.reused[i] {
					t.Errorf("request %d: Reused = %v, want %v", i, ev.Reused, tt.reused[i])
				}
				if !strings.HasPrefix(ev.Local, "127.0.0.1:") {
					t.Errorf("request %d: Local = %q", i, ev.Local)
				}
			}
			if got := srv.accepted(); got != tt.conns {
				t.Errorf("server accepted %d connections, want %d", got, tt.conns)
			}
		})
	}
}

func TestClientHeadersTooLong(t *testing.T) {
	huge := "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", maxHeaderBytes) + "\r\n\r\n"
	srv := &scripted{scripts: [][]string{{huge}}}
	_, errs := sessionRequests(t, rawServer(t, srv.handle), 1, bodyDrain, nil)
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "exceeded") {
		t.Fatalf("error %v, want the header limit", errs[0])
	}
}

// TestClientTLS: the server name is the URL's host, not the --resolve
// address; --insecure skips verification of the test certificate.
func TestClientTLS(t *testing.T) {
	var mu sync.Mutex
	var names []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", "s1")
	}))
	srv.TLS = &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		names = append(names, hello.ServerName)
		mu.Unlock()
		return nil, nil
	}}
	srv.Config.ErrorLog = discardLog()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	port := portOf(t, srv.Listener.Addr().String())

	spec := testSpec(t, "https://shop.example:"+port+"/")
	res, err := scenarios.ParseResolve("shop.example:" + port + ":127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	spec.Resolve = []scenarios.Resolve{res}
	spec.Insecure = true
	spec.Conn = scenarios.ConnSession
	events, _, err := runAll(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Error != "" || ev.Backend != "s1" {
			t.Errorf("session %d seq %d: error %q %s, backend %q", ev.Session, ev.Seq, ev.Error, ev.Detail, ev.Backend)
		}
		if ev.Reused != (ev.Seq > 0) {
			t.Errorf("session %d seq %d: Reused = %v", ev.Session, ev.Seq, ev.Reused)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(names) != spec.Sessions {
		t.Errorf("%d handshakes, want one per session (%d)", len(names), spec.Sessions)
	}
	for _, n := range names {
		if n != "shop.example" {
			t.Errorf("TLS server name %q, want shop.example", n)
		}
	}
}

// TestClientStopCutsRequestShort: stopping the worker fails the request
// in flight at once, not at its timeout.
func TestClientStopCutsRequestShort(t *testing.T) {
	hang := func(c net.Conn) { readRequest(c); _, _ = io.Copy(io.Discard, c) }
	spec := testSpec(t, "http://"+rawServer(t, hang)+"/")
	spec.Timeout = time.Hour
	d := newDialer(spec)
	c := newClient(spec, d, nil)
	tg := newTarget(spec, spec.URLs[0], d, true, 0)
	w := newWorker()
	errc := make(chan error, 1)
	go func() {
		var ev Event
		_, err := c.exchange(context.Background(), w, tg, nil, -1, nil, bodySkip, &ev)
		errc <- err
	}()
	// Stop once the request is in flight (bounded wait).
	for range 1000 {
		w.mu.Lock()
		inFlight := w.cur != nil
		w.mu.Unlock()
		if inFlight {
			break
		}
		time.Sleep(time.Millisecond)
	}
	w.stop()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("the request succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stop did not cut the request short")
	}
	var ev Event
	if _, err := c.exchange(context.Background(), w, tg, nil, -1, nil, bodySkip, &ev); err == nil {
		t.Error("a stopped worker sent a request")
	}
}
