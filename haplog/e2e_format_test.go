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

// startCustomHAProxy runs haproxy with frontend lines of the test's own
// in front of one lab backend, logging to a file through fd 3, and
// returns its address and the log's path.
func startCustomHAProxy(t *testing.T, globalLog, frontend string) (addr, logPath string) {
	t.Helper()
	bin, err := lab.FindHAProxy()
	if err != nil {
		t.Fatal(err) // a missing haproxy fails, never skips
	}
	be, err := lab.StartBackend("server1", lab.BackendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Stop() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf("global\n    %s\ndefaults\n    mode http\n    log global\n    timeout connect 2s\n    timeout client 10s\n    timeout server 10s\n"+
		"frontend fe_custom\n    bind %s\n%s\n    default_backend be_app\n"+
		"backend be_app\n    cookie SERVERID insert indirect nocache\n    server server1 %s cookie s1\n", globalLog, addr, frontend, be.Addr())
	path, logPath := filepath.Join(dir, "haproxy.cfg"), filepath.Join(dir, "haproxy.log")
	os.WriteFile(path, []byte(cfg), 0o600)
	// One process only, so handing it the file itself is safe (see the
	// lab's pipe for why several are not).
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
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return addr, logPath
}

// getMarked sends a request with the mark and a cookie, retrying while
// haproxy starts.
func getMarked(t *testing.T, addr, mark, cookie string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
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
		time.Sleep(50 * time.Millisecond)
	}
}

// readTerms waits (bounded) for n request lines and returns their
// termination states by key(record), failing on an unreadable line.
func readTerms(t *testing.T, logPath string, f *Format, n int, key func(*Record) string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for deadline := time.Now().Add(3 * time.Second); len(got) < n && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(logPath)
		rd := &Reader{Parser: NewParser(f, time.Local)}
		got = map[string]string{}
		rd.Read(logPath, strings.NewReader(string(b)), func(r *Record) { got[strings.Clone(key(r))] = strings.Clone(r.Term) })
		if rd.Unreadable > 0 {
			t.Fatalf("unreadable: %+v", rd.Samples)
		}
	}
	return got
}

// A frontend with its own log-format and the mark as unique id, logging
// with an RFC 5424 header, is read with --log-format.
func TestHAProxyCustomFormatAndUniqueID(t *testing.T) {
	t.Parallel()
	addr, logPath := startCustomHAProxy(t, "log fd@3 format rfc5424 local0",
		fmt.Sprintf("    unique-id-format %%[req.hdr(%s)]\n    log-format \"%s\"", lab.MarkHeader, customFormat))
	getMarked(t, addr, "r1/0/0", "")
	getMarked(t, addr, "r1/0/1", "SERVERID=s1")
	f, err := ParseFormat(customFormat)
	if err != nil {
		t.Fatal(err)
	}
	got := readTerms(t, logPath, f, 2, func(r *Record) string { return r.UniqueID })
	if got["r1/0/0"] != "--NI" || got["r1/0/1"] != "--VN" {
		t.Fatalf("by unique id: %v", got)
	}
	if s, q, ok := ParseMark("|r1/0/1"); !ok || s != 0 || q != 1 {
		t.Errorf("ParseMark of a unique id: %d %d %v", s, q, ok)
	}
}

// `option httplog clf`, with an RFC 3164 header, is read with
// --log-format clf.
func TestHAProxyCLF(t *testing.T) {
	t.Parallel()
	addr, logPath := startCustomHAProxy(t, "log fd@3 format rfc3164 local0", "    option httplog clf")
	getMarked(t, addr, "x", "")
	getMarked(t, addr, "y", "SERVERID=s1")
	f, err := ParseFormat("clf")
	if err != nil {
		t.Fatal(err)
	}
	got := readTerms(t, logPath, f, 2, func(r *Record) string { return r.Term })
	if got["--NI"] != "--NI" || got["--VN"] != "--VN" {
		t.Fatalf("termination states %v, want --NI and --VN", got)
	}
}
