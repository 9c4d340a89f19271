package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/hacheck"
)

const checkConfigHead = `defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend fe
    bind 127.0.0.1:8080
    default_backend be_api
`

func writeCfg(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCheckConfigExitCodes: 0 clean, 1 on a warning or worse, 2 on a
// file that does not parse (naming file:line) or a missing file.
func TestCheckConfigExitCodes(t *testing.T) {
	good := writeCfg(t, "good.cfg", checkConfigHead+"backend be_api\n    cookie SERVERID insert indirect nocache\n"+
		"    server api1 127.0.0.1:9001 cookie a1\n    server api2 127.0.0.1:9002 cookie a2\n")
	bad := writeCfg(t, "haproxy.cfg", checkConfigHead+"backend be_api\n    cookie SERVERID insert indirect nocache\n"+
		"    server api1 127.0.0.1:9001\n    server api2 127.0.0.1:9002\n    server api3 127.0.0.1:9003\n")
	broken := writeCfg(t, "broken.cfg", "global\n    log \"/dev/log\n")

	code, out, errOut := runCLI(t, "check-config", good)
	if code != 0 || !strings.Contains(out, "no persistence problem found") {
		t.Errorf("good: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "check-config", bad)
	if code != 1 || !strings.Contains(out, "haproxy.cfg:11-13") || !strings.Contains(out, "server-without-cookie") ||
		!strings.Contains(out, "servers api1..api3 of backend be_api have no `cookie` value") {
		t.Errorf("bad: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "check-config", "--ignore", "server-without-cookie", bad)
	if code != 0 || !strings.Contains(out, "1 finding(s) silenced") {
		t.Errorf("silenced: exit %d\n%s", code, out)
	}
	code, _, errOut = runCLI(t, "check-config", broken)
	if code != 2 || !strings.Contains(errOut, "broken.cfg:2: unmatched quote") {
		t.Errorf("broken: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "check-config", filepath.Join(t.TempDir(), "none.cfg"))
	if code != 2 || !strings.Contains(errOut, "none.cfg: no such file") {
		t.Errorf("missing: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ = runCLI(t, "check-config"); code != 2 {
		t.Errorf("no file: exit %d", code)
	}
}

// TestCheckConfigJSON: --json - puts the versioned findings on stdout,
// the table on stderr, HAProxy's own warnings beside ours.
func TestCheckConfigJSON(t *testing.T) {
	path := writeCfg(t, "tcp.cfg", strings.Replace(checkConfigHead, "mode http", "mode tcp", 1)+
		"backend be_api\n    cookie SERVERID insert indirect nocache\n    server api1 127.0.0.1:9001 cookie a1\n    server api2 127.0.0.1:9002 cookie a2\n")
	code, out, errOut := runCLI(t, "check-config", "--json", "-", path)
	var res hacheck.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("exit %d: %v\n%s", code, err, out)
	}
	if code != 1 || res.Schema != "stickyprobe.check-config/v1" || res.Worst != hacheck.SevWarning || !strings.Contains(errOut, "cookie-in-tcp-mode") {
		t.Errorf("exit %d, %+v\n%s", code, res, errOut)
	}
	var ours, theirs bool
	for _, f := range res.Findings {
		ours = ours || f.ID == "cookie-in-tcp-mode" && f.Line == 10 && f.Cause == "no-token" && f.Source == hacheck.SourceOurs
		theirs = theirs || f.Source == hacheck.SourceHAProxy && strings.Contains(f.Problem, "cookie will be ignored")
	}
	if !ours || !theirs {
		t.Errorf("findings %+v", res.Findings)
	}
}

// TestCheckConfigJSONFile: --json FILE writes the findings there and the
// table to stdout; two nodes that disagree are compared.
func TestCheckConfigJSONFile(t *testing.T) {
	node := checkConfigHead + "backend be_api\n    cookie SERVERID insert indirect nocache\n    server api1 127.0.0.1:9001 cookie %s\n    server api2 127.0.0.1:9002 cookie a2\n"
	lb1 := writeCfg(t, "lb1.cfg", strings.Replace(node, "%s", "a1", 1))
	lb2 := writeCfg(t, "lb2.cfg", strings.Replace(node, "%s", "x1", 1))
	out := filepath.Join(t.TempDir(), "findings.json")
	code, stdout, _ := runCLI(t, "check-config", "--no-haproxy", "--json", out, lb1, lb2)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res hacheck.Result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if code != 1 || len(res.Findings) != 1 || res.Findings[0].ID != "cookie-value-differs" || res.Findings[0].File != lb2 || res.Findings[0].Line != 11 ||
		res.NoCheck != "--no-haproxy" || !strings.Contains(stdout, "cookie-value-differs") {
		t.Errorf("exit %d, %+v\n%s", code, res, stdout)
	}
}
