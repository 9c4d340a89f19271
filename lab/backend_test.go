package lab

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func startTestBackend(t *testing.T, name string, opts BackendOptions) *Backend {
	t.Helper()
	b, err := StartBackend(name, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop() })
	return b
}

func TestBackendNamesItself(t *testing.T) {
	t.Parallel()
	b := startTestBackend(t, "server7", BackendOptions{})
	if !strings.HasPrefix(b.Addr(), "127.0.0.1:") || b.Name() != "server7" {
		t.Fatalf("Addr=%q Name=%q", b.Addr(), b.Name())
	}
	c := freshClient(t)
	url := "http://" + b.Addr() + "/some/path?q=1"
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost} {
		r := do(t, c, m, url, "")
		if r.status != 200 || r.backend != "server7" {
			t.Errorf("%s: status=%d X-Backend=%q", m, r.status, r.backend)
		}
		wantBody := "backend: server7\n"
		if m == http.MethodHead {
			wantBody = ""
		}
		if r.body != wantBody {
			t.Errorf("%s: body %q, want %q", m, r.body, wantBody)
		}
	}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain" {
		t.Errorf("Content-Type %q", ct)
	}
	if got := b.Requests(); got != 4 {
		t.Errorf("Requests() = %d, want 4", got)
	}
}

func TestBackendEchoesNothing(t *testing.T) {
	t.Parallel()
	b := startTestBackend(t, "server1", BackendOptions{})
	const secret = "s3cr3t-token"
	req, _ := http.NewRequest(http.MethodPost, "http://"+b.Addr()+"/"+secret, strings.NewReader(secret))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Cookie", "session="+secret)
	resp, err := freshClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var all strings.Builder
	_ = resp.Header.Write(&all)
	buf := make([]byte, 4096)
	n, _ := resp.Body.Read(buf)
	all.Write(buf[:n])
	if strings.Contains(all.String(), secret) {
		t.Fatalf("response echoes request data:\n%s", all.String())
	}
}

func TestBackendStopStart(t *testing.T) {
	t.Parallel()
	b := startTestBackend(t, "server1", BackendOptions{})
	addr := b.Addr()
	c := freshClient(t)
	get(t, c, "http://"+addr+"/", "")

	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := b.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if servedBy(addr, b) || b.Running() {
		t.Fatal("stopped backend still accepts connections")
	}
	if _, err := c.Get("http://" + addr + "/"); err == nil {
		t.Fatal("GET to stopped backend succeeded")
	}

	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatalf("Start on running backend: %v", err)
	}
	if b.Addr() != addr {
		t.Fatalf("address changed: %s -> %s", addr, b.Addr())
	}
	if r := get(t, c, "http://"+addr+"/", ""); r.backend != "server1" {
		t.Fatalf("after Start: X-Backend=%q", r.backend)
	}
	if got := b.Requests(); got != 2 {
		t.Errorf("Requests() = %d, want 2 (count survives restart)", got)
	}
}

func TestBackendAppCookie(t *testing.T) {
	t.Parallel()
	b := startTestBackend(t, "server1", BackendOptions{AppCookie: "JSESSIONID"})
	c := freshClient(t)
	url := "http://" + b.Addr() + "/"

	first := get(t, c, url, "")
	want := regexp.MustCompile(`^JSESSIONID=([0-9a-f]{32}); Path=/; HttpOnly$`)
	if len(first.setCookies) != 1 || !want.MatchString(first.setCookies[0]) {
		t.Fatalf("first response Set-Cookie = %q", first.setCookies)
	}
	value := want.FindStringSubmatch(first.setCookies[0])[1]

	for i := 0; i < 3; i++ {
		if r := get(t, c, url, "JSESSIONID="+value); len(r.setCookies) != 0 {
			t.Fatalf("cookie reset although it was sent back: %q", r.setCookies)
		}
	}
	other := get(t, c, url, "unrelated=1")
	if len(other.setCookies) != 1 || strings.Contains(other.setCookies[0], value) {
		t.Fatalf("new client should get a new session, got %q", other.setCookies)
	}
}

func TestBackendEchoAuthorizationAndCookieValues(t *testing.T) {
	t.Parallel()
	n := 0
	b := startTestBackend(t, "server1", BackendOptions{AppCookie: "SID", EchoAuthorization: true,
		AppCookieValue: func() string { n++; return "known-" + strings.Repeat("x", n) }})
	req, _ := http.NewRequest(http.MethodGet, "http://"+b.Addr()+"/", nil)
	req.Header.Set("Authorization", "Bearer s3cr3t")
	resp, err := freshClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Echo-Authorization"); got != "Bearer s3cr3t" {
		t.Errorf("X-Echo-Authorization = %q, want the request's Authorization", got)
	}
	if got := resp.Header.Get("Set-Cookie"); !strings.HasPrefix(got, "SID=known-x;") {
		t.Errorf("Set-Cookie = %q, want the value AppCookieValue made", got)
	}
	if r := get(t, freshClient(t), "http://"+b.Addr()+"/", ""); r.backend != "server1" {
		t.Fatalf("X-Backend=%q", r.backend)
	} else if len(r.setCookies) != 1 || !strings.HasPrefix(r.setCookies[0], "SID=known-xx;") {
		t.Errorf("second client: Set-Cookie %q, want the next value", r.setCookies)
	}
}

func TestStartBackendRejectsBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts BackendOptions
	}{
		{"", BackendOptions{}},
		{"a\r\nX-Evil: 1", BackendOptions{}},
		{"ok", BackendOptions{AppCookie: "bad name;"}},
	} {
		if b, err := StartBackend(tc.name, tc.opts); err == nil {
			b.Stop()
			t.Errorf("StartBackend(%q, %+v) succeeded", tc.name, tc.opts)
		}
	}
}
