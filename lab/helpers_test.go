package lab

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// requireHAProxy fails (never skips) when haproxy is missing: CI installs it,
// and a silently skipped integration test would hide a broken setup.
func requireHAProxy(t *testing.T) {
	t.Helper()
	if _, err := FindHAProxy(); err != nil {
		t.Fatal(err)
	}
}

// startLab starts a lab bounded in time and stops it when the test ends.
func startLab(t *testing.T, opts Options) *Lab {
	t.Helper()
	requireHAProxy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	l, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

func startPresetLab(t *testing.T, name string) *Lab {
	t.Helper()
	p, ok := PresetByName(name)
	if !ok {
		t.Fatalf("no preset %q", name)
	}
	return startLab(t, Options{HAProxy: p.Config})
}

// freshClient opens a new TCP connection per request, like a new visitor,
// so only cookies (not connection reuse) can keep a client on one server.
func freshClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 3 * time.Second}
}

type reply struct {
	status     int
	backend    string
	setCookies []string
	body       string
}

// do sends method to url with an optional raw Cookie header.
func do(t *testing.T, c *http.Client, method, url, cookie string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header.Get("X-Backend"), resp.Header.Values("Set-Cookie"), string(body)}
}

func get(t *testing.T, c *http.Client, url, cookie string) reply {
	t.Helper()
	return do(t, c, http.MethodGet, url, cookie)
}

// refuses reports whether nothing accepts TCP connections on addr.
// servedBy reports whether a request to addr is answered by one of the
// given backends (directly or through a load balancer). A port that merely
// accepts connections proves nothing: once released, the kernel may hand it
// to a parallel test's listener at once.
func servedBy(addr string, backends ...*Backend) bool {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	got := resp.Header.Get("X-Lab-Instance")
	for _, b := range backends {
		if got == b.Instance() {
			return true
		}
	}
	return false
}
