package lab

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRenderHTTPLog(t *testing.T) {
	t.Parallel()
	requireHAProxy(t)
	bin, _ := FindHAProxy()
	for _, mode := range []string{"http", "tcp"} {
		cfg := HAProxyConfig{Mode: mode, HTTPLog: true}
		text, err := cfg.Render(18080, fakeBackends(2))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"    log fd@3 format raw local0\n", "    log global\n", "    option " + map[string]string{"http": "httplog", "tcp": "tcplog"}[mode] + "\n"}
		if mode == "http" {
			want = append(want, "    capture request header X-Stickyprobe-Mark len 96\n")
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("mode %s: no %q in\n%s", mode, w, text)
			}
		}
		if mode == "tcp" && strings.Contains(text, "capture") {
			t.Errorf("mode tcp captures a header:\n%s", text)
		}
		checkConfig(t, bin, text)
	}
	for _, p := range Presets() {
		if !p.Config.HTTPLog {
			t.Errorf("preset %s does not log requests", p.Name)
		}
	}
}

// checkConfig runs haproxy -c on text, failing on a warning too.
func checkConfig(t *testing.T, bin, text string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := exec.CommandContext(ctx, bin, "-c", "-f", path).CombinedOutput()
	if out := string(b); err != nil || strings.Contains(out, "WARNING") {
		t.Errorf("haproxy -c: %v\n%s\n%s", err, b, text)
	}
}

// TestRequestLogSurvivesRestartAndReload: one file holds the lines of
// every process the lab ran, and the mark header is captured.
func TestRequestLogSurvivesRestartAndReload(t *testing.T) {
	t.Parallel()
	requireHAProxy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, _ := PresetByName("textbook")
	l, err := Start(ctx, Options{Backends: 2, HAProxy: p.Config})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	h := l.LB.(*HAProxy)
	path := h.RequestLog()
	if path == "" {
		t.Fatal("no request log")
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	// get sends a marked request and waits until its line is in the log:
	// HAProxy writes it when the request ends, which a SIGTERM can beat.
	get := func(mark string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.URL(), nil)
		req.Header.Set(MarkHeader, mark)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if b, _ := os.ReadFile(path); strings.Contains(string(b), "{"+mark+"}") {
				return
			}
		}
		t.Fatalf("no line for %s", mark)
	}
	get("before")
	if err := h.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	get("after-restart")
	if err := h.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	get("after-reload")
	b, _ := os.ReadFile(path)
	text := string(b)
	for _, m := range []string{"{before}", "{after-restart}", "{after-reload}"} {
		if !strings.Contains(text, m) {
			t.Errorf("log lacks %s:\n%s", m, text)
		}
	}
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("Stop left the lab's request log %s: %v", path, err)
	}
}
