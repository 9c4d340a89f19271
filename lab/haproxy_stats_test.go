package lab

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRenderStatsSocket(t *testing.T) {
	be := []*Backend{{name: "server1", addr: "127.0.0.1:1"}}
	text, err := HAProxyConfig{StatsSocket: true, StatsSocketPath: "/tmp/x/haproxy.sock"}.Render(8080, be)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "\n    stats socket /tmp/x/haproxy.sock mode 600 level operator\n") {
		t.Errorf("no operator socket line:\n%s", text)
	}
	text, err = HAProxyConfig{StatsSocket: true, StatsSocketPath: "/tmp/x/h.sock", StatsLevel: "user"}.Render(8080, be)
	if err != nil || !strings.Contains(text, "stats socket /tmp/x/h.sock mode 600 level user\n") {
		t.Errorf("level user: %v\n%s", err, text)
	}
	text, err = HAProxyConfig{StatsSocket: true, StatsSocketPath: "ipv4@127.0.0.1:9999"}.Render(8080, be)
	if err != nil || !strings.Contains(text, "stats socket ipv4@127.0.0.1:9999 mode 600 level operator\n") {
		t.Errorf("tcp socket: %v\n%s", err, text)
	}
	if text, _ := (HAProxyConfig{}).Render(8080, be); strings.Contains(text, "stats socket") {
		t.Errorf("a socket without StatsSocket:\n%s", text)
	}
	for _, bad := range []HAProxyConfig{
		{StatsSocket: true, StatsSocketPath: "/tmp/x.sock", StatsLevel: "admin"},
		{StatsSocket: true, StatsSocketPath: "relative.sock"},
		{StatsSocket: true, StatsSocketPath: "/tmp/a b.sock"},
		{StatsSocket: true, StatsSocketPath: "/tmp/x.sock\n    stats socket /tmp/y level admin"},
		{StatsSocket: true, StatsSocketPath: "/" + strings.Repeat("x", 100)},
		{StatsSocket: true},
		{StatsSocket: true, StatsSocketPath: "ipv4@0.0.0.0:9999"},
		{StatsSocket: true, StatsSocketPath: "ipv4@10.0.0.1:9999"},
		{StatsSocket: true, StatsSocketPath: "ipv4@127.0.0.1:0"},
		{StatsSocket: true, StatsSocketPath: "ipv4@127.0.0.1"},
		{StatsSocketPath: "/tmp/x.sock"},
	} {
		if _, err := bad.Render(8080, be); err == nil {
			t.Errorf("Render(%+v) accepted", bad)
		}
	}
}

// TestStatsSocketStaysAcrossRestart starts a lab HAProxy with a socket
// and checks the socket answers, keeps its path across Restart and
// Reconfigure, and is gone with its directory after Stop.
func TestStatsSocketStaysAcrossRestart(t *testing.T) {
	l := startLab(t, Options{Backends: 2, HAProxy: HAProxyConfig{StatsSocket: true}})
	h := l.LB.(*HAProxy)
	path := h.StatsSocket()
	if path == "" || len(path) > maxStatsSocketPath {
		t.Fatalf("StatsSocket() = %q", path)
	}
	if st, err := os.Stat(path); err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket %s: %v %v", path, st.Mode(), err)
	}
	askVersion(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := h.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Reconfigure(ctx, HAProxyConfig{StatsSocket: true, Balance: "source"}); err != nil {
		t.Fatal(err)
	}
	if h.StatsSocket() != path {
		t.Fatalf("socket moved to %s", h.StatsSocket())
	}
	askVersion(t, path)
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket still there after Stop: %v", err)
	}
	if err := h.Restart(ctx); err != nil { // a stopped instance comes back on the same path
		t.Fatal(err)
	}
	askVersion(t, path)
}

func askVersion(t *testing.T, path string) {
	t.Helper()
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	c.Write([]byte("show version\n"))
	b := make([]byte, 128)
	n, _ := c.Read(b)
	if !strings.HasPrefix(string(b[:n]), "2.") {
		t.Fatalf("show version = %q", b[:n])
	}
}
