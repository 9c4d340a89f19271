package haplog

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
)

// customFormat is `option httplog`'s format spelled out, plus the unique
// id: HAProxy 2.6 has no ${HAPROXY_HTTP_LOG_FMT} (it expands to nothing
// there, measured), so the README gives the whole string.
const customFormat = `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r %ID`

// A frontend with its own log-format and the mark as unique id, logging
// with an RFC 5424 header, is read with --log-format.
func TestHAProxyCustomFormatAndUniqueID(t *testing.T) {
	t.Parallel()
	bin, err := lab.FindHAProxy()
	if err != nil {
		t.Fatal(err)
	}
	be, err := lab.StartBackend("server1", lab.BackendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global
    log fd@3 format rfc5424 local0
defaults
    mode http
    log global
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe_custom
    bind %s
    unique-id-format %%[req.hdr(%s)]
    log-format "%s"
    default_backend be_app
backend be_app
    cookie SERVERID insert indirect nocache
    server server1 %s cookie s1
`, addr, lab.MarkHeader, customFormat, be.Addr())
	path, logPath := filepath.Join(dir, "haproxy.cfg"), filepath.Join(dir, "haproxy.log")
	os.WriteFile(path, []byte(cfg), 0o600)
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.ExtraFiles = []*os.File{logFile}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logFile.Close()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	get := func(mark, cookie string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
			req.Header.Set(lab.MarkHeader, mark)
			if cookie != "" {
				req.Header.Set("Cookie", cookie)
			}
			resp, err := client.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return
			}
			if ctx.Err() != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond) // haproxy still starting
		}
	}
	get("r1/0/0", "")
	get("r1/0/1", "SERVERID=s1")

	f, err := ParseFormat(customFormat)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for deadline := time.Now().Add(3 * time.Second); len(got) < 2 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(logPath)
		rd := &Reader{Parser: NewParser(f, time.Local)}
		got = map[string]string{}
		rd.Read(logPath, strings.NewReader(string(b)), func(r *Record) { got[strings.Clone(r.UniqueID)] = strings.Clone(r.Term) })
		if rd.Unreadable > 0 {
			t.Fatalf("unreadable: %+v", rd.Samples)
		}
	}
	if got["r1/0/0"] != "--NI" || got["r1/0/1"] != "--VN" {
		t.Fatalf("by unique id: %v", got)
	}
	if s, q, ok := ParseMark("|r1/0/1"); !ok || s != 0 || q != 1 {
		t.Errorf("ParseMark of a unique id: %d %d %v", s, q, ok)
	}
}
