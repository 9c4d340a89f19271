package lab

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func dirExists(dir string) bool {
	_, err := os.Stat(dir)
	return err == nil
}

func TestLabDefaults(t *testing.T) {
	t.Parallel()
	l := startLab(t, Options{})
	if len(l.Backends) != 3 || l.LB == nil || l.LB.Kind() != "haproxy" {
		t.Fatalf("Backends=%d LB=%v", len(l.Backends), l.LB)
	}
	for i, name := range []string{"server1", "server2", "server3"} {
		if l.Backends[i].Name() != name || l.Backend(name) != l.Backends[i] {
			t.Errorf("backend %d is %q", i, l.Backends[i].Name())
		}
	}
	if l.Backend("server4") != nil {
		t.Error("Backend(server4) found something")
	}
}

func TestLabAppCookieThroughHAProxy(t *testing.T) {
	t.Parallel()
	l := startLab(t, Options{Backends: 2, Backend: BackendOptions{AppCookie: "PHPSESSID"}})
	r := get(t, freshClient(t), l.LB.URL(), "")
	if len(r.setCookies) != 1 || !strings.HasPrefix(r.setCookies[0], "PHPSESSID=") {
		t.Fatalf("Set-Cookie through haproxy = %q", r.setCookies)
	}
}

func TestLabCloseStopsEverything(t *testing.T) {
	t.Parallel()
	requireHAProxy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	l, err := Start(ctx, Options{Backends: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	get(t, freshClient(t), l.LB.URL(), "")
	h := l.LB.(*HAProxy)
	h.mu.Lock()
	pid, dir := h.proc.cmd.Process.Pid, h.dir
	h.mu.Unlock()

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if servedBy(loopbackAddr(l.LB.Port()), l.Backends...) || h.Running() {
		t.Error("haproxy still running after Close")
	}
	for _, b := range l.Backends {
		if servedBy(b.Addr(), b) || b.Running() {
			t.Errorf("backend %s still accepts after Close", b.Name())
		}
	}
	if dirExists(dir) {
		t.Errorf("config dir %s left behind", dir)
	}
	if processAlive(pid) {
		t.Errorf("haproxy pid %d still exists (zombie or orphan)", pid)
	}
}

func TestStartRejectsNegativeBackends(t *testing.T) {
	t.Parallel()
	if _, err := Start(context.Background(), Options{Backends: -1}); err == nil {
		t.Fatal("Start accepted Backends=-1")
	}
}

// Not parallel: t.Setenv and sbinDirs change process-wide state.
func TestFindHAProxyMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := sbinDirs
	sbinDirs = []string{t.TempDir()}
	t.Cleanup(func() { sbinDirs = saved })
	const want = "haproxy not found in PATH, /usr/sbin, /usr/local/sbin or /sbin; install it with: sudo apt-get install -y haproxy (Debian/Ubuntu), " +
		"sudo dnf install -y haproxy (Fedora/RHEL), brew install haproxy (macOS)"
	_, err := FindHAProxy()
	if err == nil || err.Error() != want {
		t.Fatalf("FindHAProxy() error = %v\nwant %s", err, want)
	}
	if _, err := Start(context.Background(), Options{}); !errors.Is(err, ErrHAProxyNotFound) {
		t.Fatalf("Start without haproxy: %v", err)
	}
	if _, err := StartHAProxy(context.Background(), HAProxyConfig{}, fakeBackends(1)); !errors.Is(err, ErrHAProxyNotFound) {
		t.Fatalf("StartHAProxy without haproxy: %v", err)
	}
}

// Debian installs haproxy in /usr/sbin, which a normal user's PATH lacks:
// FindHAProxy must still find it there, and only an executable file counts.
func TestFindHAProxyInSbin(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	notExec, sbin := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(notExec, "haproxy"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(sbin, "haproxy")
	if err := os.WriteFile(want, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	saved := sbinDirs
	sbinDirs = []string{notExec, sbin}
	t.Cleanup(func() { sbinDirs = saved })
	got, err := FindHAProxy()
	if err != nil || got != want {
		t.Fatalf("FindHAProxy() = %q, %v; want %q", got, err, want)
	}
}
