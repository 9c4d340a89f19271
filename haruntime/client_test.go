package haruntime

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseAddr(t *testing.T) {
	good := map[string]Addr{
		"/run/haproxy/admin.sock": {"unix", "/run/haproxy/admin.sock"},
		"unix:/tmp/h.sock":        {"unix", "/tmp/h.sock"},
		"relative.sock":           {"unix", "relative.sock"},
		"tcp:127.0.0.1:9999":      {"tcp", "127.0.0.1:9999"},
		"tcp:[::1]:9999":          {"tcp", "[::1]:9999"},
		"tcp:localhost:1":         {"tcp", "localhost:1"},
	}
	for in, want := range good {
		got, err := ParseAddr(in)
		if err != nil || got != want {
			t.Errorf("ParseAddr(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if back, err := ParseAddr(got.String()); err != nil || back != got {
			t.Errorf("ParseAddr(%q.String()) = %+v, %v", in, back, err)
		}
	}
	for _, in := range []string{"", "unix:", "tcp:", "tcp:127.0.0.1", "tcp:127.0.0.1:0", "tcp:127.0.0.1:70000",
		"tcp::9999", "tcp:127.0.0.1:x", "/tmp/a\nb", "/" + strings.Repeat("x", 107)} {
		if got, err := ParseAddr(in); err == nil {
			t.Errorf("ParseAddr(%q) = %+v, want an error", in, got)
		}
	}
}

func TestCheckCommandAllowsOnlyReads(t *testing.T) {
	for _, cmd := range []string{"show info", "show version", "show backend", "show stat", "show servers state",
		"show servers state be_app", "show table", "show table be_app", "show table be_app key 127.0.0.1",
		"show table be_app data.server_id eq 2", "  show   info  "} {
		if err := CheckCommand(cmd); err != nil {
			t.Errorf("CheckCommand(%q) = %v, want nil", cmd, err)
		}
	}
	for _, cmd := range []string{"", "show", "set server be_app/server1 state maint", "disable server be_app/server1",
		"enable server be_app/server1", "clear table be_app", "clear counters all", "add server be_app/x 127.0.0.1:1",
		"del server be_app/server1", "shutdown sessions server be_app/server1", "shutdown frontend fe_main",
		"show info; shutdown frontend fe_main", "show info\nclear counters", "show table be_app key a\\;clear",
		"show table be_app key 'a b'", "show stat extra", "show servers state a b", "show table be_app data.x zz 1",
		"show table be_app key", "show sess", "show env", "prompt", "experimental-mode on", "expert-mode on",
		"show table be_app data. eq 1", "SHOW INFO"} {
		if err := CheckCommand(cmd); !errors.Is(err, ErrNotAllowed) {
			t.Errorf("CheckCommand(%q) = %v, want ErrNotAllowed", cmd, err)
		}
	}
}

// fakeSocket serves each connection with handle on a UNIX socket in a
// temp dir: a stand-in for sockets that misbehave, which HAProxy does not.
func fakeSocket(t *testing.T, handle func(net.Conn)) Addr {
	t.Helper()
	path := filepath.Join(shortTempDir(t), "f.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); handle(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return Addr{Network: "unix", Address: path}
}

func TestClientFailuresAreSentinelsAndBounded(t *testing.T) {
	readCmd := func(c net.Conn) { c.Read(make([]byte, 256)) }
	silent := fakeSocket(t, func(c net.Conn) { readCmd(c); time.Sleep(3 * time.Second) })
	garbage := fakeSocket(t, func(c net.Conn) { readCmd(c); c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")) })
	empty := fakeSocket(t, func(c net.Conn) { readCmd(c) })
	huge := fakeSocket(t, func(c net.Conn) {
		readCmd(c)
		for i := 0; i < 200; i++ {
			if _, err := c.Write([]byte(strings.Repeat("Name: HAProxy\n", 100))); err != nil {
				return
			}
		}
	})
	denied := fakeSocket(t, func(c net.Conn) { readCmd(c); c.Write([]byte("Permission denied\n\n")) })
	cases := []struct {
		name string
		addr Addr
		want error
	}{
		{"missing", Addr{"unix", filepath.Join(t.TempDir(), "none.sock")}, ErrUnreachable},
		{"refused tcp", Addr{"tcp", closedPort(t)}, ErrUnreachable},
		{"silent", silent, ErrTimeout},
		{"garbage", garbage, ErrGarbage},
		{"empty", empty, ErrGarbage},
		{"huge", huge, ErrTooLarge},
		{"denied", denied, ErrPermission},
	}
	for _, tc := range cases {
		c := &Client{Addr: tc.addr, Timeout: 300 * time.Millisecond, MaxReply: 64 << 10}
		start := time.Now()
		_, err := c.Info(context.Background())
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Info() = %v, want %v", tc.name, err, tc.want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %s; the timeout is 300ms", tc.name, d)
		}
		if err != nil && !strings.Contains(err.Error(), tc.addr.String()) {
			t.Errorf("%s: error %q does not name the address", tc.name, err)
		}
	}
}

func TestClientNeverSendsDisallowedCommands(t *testing.T) {
	got := make(chan string, 1)
	addr := fakeSocket(t, func(c net.Conn) {
		b := make([]byte, 256)
		n, _ := c.Read(b)
		got <- string(b[:n])
	})
	c := NewClient(addr)
	if _, err := c.Query(context.Background(), "disable server be_app/server1"); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("Query(disable) = %v, want ErrNotAllowed", err)
	}
	if _, _, err := c.Lookup(context.Background(), "be_app", "a;clear table be_app"); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("Lookup with ';' = %v, want ErrNotAllowed", err)
	}
	select {
	case cmd := <-got:
		t.Fatalf("the socket received %q", cmd)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestClientHonoursContext(t *testing.T) {
	addr := fakeSocket(t, func(c net.Conn) { c.Read(make([]byte, 256)); time.Sleep(3 * time.Second) })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := (&Client{Addr: addr, Timeout: 5 * time.Second}).Info(ctx)
	if !errors.Is(err, ErrTimeout) || time.Since(start) > time.Second {
		t.Fatalf("Info under a 100ms context = %v after %s", err, time.Since(start))
	}
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// shortTempDir is a temp dir under /tmp: t.TempDir() under a long
// TMPDIR or test name can exceed a UNIX socket path's 107 bytes.
func shortTempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("/tmp", "hart-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
