package hacheck

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/hacfg"
	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
)

func parse(t *testing.T, name, text string) *hacfg.Config {
	t.Helper()
	cfg, err := hacfg.Parse(name, []byte(text), hacfg.Options{Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cfg
}

func ids(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func find(fs []Finding, id string) (Finding, bool) {
	for _, f := range fs {
		if f.ID == id {
			return f, true
		}
	}
	return Finding{}, false
}

const head = `defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend fe
    bind :8080
    default_backend be
`

// TestChecks gives each check a backend that has the mistake (and only
// it) and asserts the finding, its place and its cause.
func TestChecks(t *testing.T) {
	tests := []struct {
		name, backend string
		opts          Options
		want          string       // the one id expected
		line, end     int          // its place
		cause         report.Cause // its cause
	}{
		{"cookie in tcp", "backend be\n    mode tcp\n    cookie S insert indirect nocache\n    server a 127.0.0.1:1 cookie a\n    server b 127.0.0.1:2 cookie b\n",
			Options{}, "cookie-in-tcp-mode", 11, 0, report.CauseNoToken},
		{"servers without cookie", "backend be\n    cookie S insert indirect nocache\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n    server c 127.0.0.1:3\n",
			Options{}, "server-without-cookie", 11, 13, report.CauseNoToken},
		{"dynamic without key", "backend be\n    cookie S insert indirect nocache dynamic\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n",
			Options{}, "dynamic-without-key", 10, 0, report.CauseNoToken},
		{"no persistence", "backend be\n    balance leastconn\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n",
			Options{}, "no-persistence", 10, 0, report.CauseNoToken},
		{"secure over http", "backend be\n    cookie S insert indirect nocache secure\n    server a 127.0.0.1:1 cookie a\n    server b 127.0.0.1:2 cookie b\n",
			Options{}, "secure-without-ssl", 10, 0, report.CauseTokenRefused},
		{"domain", "backend be\n    cookie S insert indirect nocache domain .example.org\n    server a 127.0.0.1:1 cookie a\n    server b 127.0.0.1:2 cookie b\n",
			Options{URL: mustURL("http://shop.example.com/")}, "domain-mismatch", 10, 0, report.CauseTokenRefused},
		{"samesite none", "backend be\n    cookie S insert indirect nocache attr \"SameSite=None\"\n    server a 127.0.0.1:1 cookie a\n    server b 127.0.0.1:2 cookie b\n",
			Options{}, "samesite-none-without-secure", 10, 0, report.CauseTokenRefused},
		{"postonly", "backend be\n    cookie S insert indirect postonly\n    server a 127.0.0.1:1 cookie a\n    server b 127.0.0.1:2 cookie b\n",
			Options{}, "postonly", 10, 0, report.CauseNoToken},
		{"maxidle", "backend be\n    cookie S insert indirect nocache maxidle 10s\n    server a 127.0.0.1:1 cookie a\n    server b 127.0.0.1:2 cookie b\n",
			Options{Think: 30 * time.Second}, "cookie-maxidle-short", 10, 0, report.CauseTokenReassigned},
		{"maxlife", "backend be\n    cookie S insert indirect nocache maxlife 1m\n    server a 127.0.0.1:1 cookie a\n    server b 127.0.0.1:2 cookie b\n",
			Options{Think: 2 * time.Minute}, "cookie-maxlife-short", 10, 0, report.CauseTokenReassigned},
		{"ignore-persist", "backend be\n    cookie S insert indirect nocache\n    ignore-persist if { path_beg /static }\n    server a 127.0.0.1:1 cookie a\n    server b 127.0.0.1:2 cookie b\n",
			Options{}, "ignore-persist", 11, 0, report.CauseTokenIgnored},
		{"nocache", "backend be\n    cookie S insert indirect\n    server a 127.0.0.1:1 cookie a\n    server b 127.0.0.1:2 cookie b\n",
			Options{}, "nocache-missing", 10, 0, ""},
		{"table without peers", "backend be\n    stick-table type ip size 1m expire 30m\n    stick on src\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n",
			Options{}, "stick-no-peers", 10, 0, report.CauseAfterAction},
		{"truncated key", "peers p\n    peer me 127.0.0.1:10000\nbackend be\n    stick-table type string len 16 size 1m peers p\n    stick on req.cook(JSESSIONID)\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n",
			Options{}, "stick-key-truncated", 12, 0, report.CauseTokenIgnored},
		{"small table", "peers p\n    peer me 127.0.0.1:10000\nbackend be\n    stick-table type ip size 100 peers p\n    stick on src\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n",
			Options{}, "stick-table-small", 12, 0, report.CauseTokenIgnored},
		{"short expire", "peers p\n    peer me 127.0.0.1:10000\nbackend be\n    stick-table type ip size 1m expire 5s peers p\n    stick on src\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n",
			Options{Think: 10 * time.Second}, "stick-expire-short", 12, 0, report.CauseTokenIgnored},
		{"server ids", "peers p\n    peer lb1 10.0.0.1:10000\n    peer lb2 10.0.0.2:10000\nbackend be\n    stick-table type ip size 1m peers p\n    stick on src\n    server a 127.0.0.1:1 id 1\n    server b 127.0.0.1:2\n",
			Options{}, "server-id-not-forced", 16, 0, report.CauseFrontendChanged},
		{"map-based hash", "backend be\n    balance source\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n",
			Options{}, "hash-map-based", 10, 0, report.CauseUnexplained},
		{"redispatch", "backend be\n    option redispatch\n    cookie S insert indirect nocache\n    server a 127.0.0.1:1 cookie a\n    server b 127.0.0.1:2 cookie b\n",
			Options{}, "redispatch", 10, 0, report.CauseTokenReassigned},
		{"appsession", "backend be\n    appsession JSESSIONID len 52 timeout 3h\n    server a 127.0.0.1:1\n",
			Options{}, "appsession", 10, 0, report.CauseNoToken},
	}
	for _, tt := range tests {
		fs := Check([]*hacfg.Config{parse(t, "t.cfg", head+tt.backend)}, tt.opts)
		if len(fs) != 1 || fs[0].ID != tt.want {
			t.Errorf("%s: findings %v, want [%s]", tt.name, ids(fs), tt.want)
			continue
		}
		f := fs[0]
		if f.Line != tt.line || f.EndLine != tt.end || f.Cause != tt.cause || f.Backend != "be" || f.Problem == "" || f.Fix == "" {
			t.Errorf("%s: %s line %d-%d cause %q backend %q; want %d-%d %q be\n%+v", tt.name, f.ID, f.Line, f.EndLine, f.Cause, f.Backend, tt.line, tt.end, tt.cause, f)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestQuietOnGoodConfigs: the textbook setups and the production-shaped
// config of hacfg's testdata give no warning.
func TestQuietOnGoodConfigs(t *testing.T) {
	text, err := os.ReadFile("../hacfg/testdata/production.cfg")
	if err != nil {
		t.Fatal(err)
	}
	fs := Check([]*hacfg.Config{parse(t, "production.cfg", string(text))}, Options{URL: mustURL("https://shop.example/")})
	for _, f := range fs {
		if f.Severity.Failing() {
			t.Errorf("production.cfg: %s at %s: %s", f.ID, f.Pos(), f.Problem)
		}
	}
	if _, ok := find(fs, "redispatch"); !ok {
		t.Errorf("production.cfg: no redispatch note in %v", ids(fs))
	}
}

func TestSilence(t *testing.T) {
	fs := []Finding{{ID: "a", Backend: "x"}, {ID: "a", Backend: "y"}, {ID: "b", Backend: "x"}}
	kept, n := Silence(fs, []string{"a@x", "c"})
	if n != 1 || len(kept) != 2 || kept[0].Backend != "y" {
		t.Errorf("a@x: kept %v, dropped %d", kept, n)
	}
	if kept, n = Silence(fs, []string{"a"}); n != 2 || len(kept) != 1 || kept[0].ID != "b" {
		t.Errorf("a: kept %v, dropped %d", kept, n)
	}
	if Worst(fs) != "" && Worst([]Finding{{Severity: SevInfo}, {Severity: SevWarning}}) != SevWarning {
		t.Error("Worst")
	}
}

// labPresetFindings is what check-config must say of every lab preset,
// probed under the lab's host name: the mistakes and nothing else.
var labPresetFindings = map[string][]string{
	"textbook":         nil,
	"redispatch":       {"redispatch"},
	"no-cookie":        {"no-persistence"},
	"no-server-cookie": {"server-without-cookie"},
	"single-backend":   nil,
	"cookie-domain":    {"domain-mismatch"},
	"cookie-secure":    {"secure-without-ssl"},
	"stick-app-cookie": nil,
	"source":           {"hash-map-based"},
}

func labBackends(t *testing.T) []*lab.Backend {
	var backends []*lab.Backend
	for i := 1; i <= 3; i++ {
		b, err := lab.StartBackend("server"+strconv.Itoa(i), lab.BackendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Stop() })
		backends = append(backends, b)
	}
	return backends
}

// TestLabPresets runs the checks and the real `haproxy -c` on every
// config the lab generates.
func TestLabPresets(t *testing.T) {
	backends := labBackends(t)
	bin, err := lab.FindHAProxy()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, p := range lab.Presets() {
		if p.Config.Peers {
			p.Config.PeersPort = 18081
		}
		text, err := p.Config.Render(18080, backends)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, p.Name+".cfg")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := hacfg.ParseFile(path, hacfg.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fs := Check([]*hacfg.Config{cfg}, Options{URL: mustURL("http://lab.stickyprobe.test:18080/")})
		want, ok := labPresetFindings[p.Name]
		if !ok {
			t.Errorf("preset %s: add what check-config must say of it to labPresetFindings", p.Name)
		}
		if got := ids(fs); !slices.Equal(got, want) {
			t.Errorf("preset %s: findings %v, want %v", p.Name, got, want)
		}
		hf, err := HAProxyCheck(context.Background(), bin, cfg, "stickyprobe-lab") // the lab's -L
		if err != nil || len(hf) != 0 {
			t.Errorf("preset %s: haproxy -c: %v %v", p.Name, hf, err)
		}
	}
}

// TestNodesDisagree: two textbook nodes whose cookie values differ, as
// the lab's nodes-disagree row runs them.
func TestNodesDisagree(t *testing.T) {
	backends := labBackends(t)
	p, _ := lab.PresetByName("textbook")
	a, _ := p.Config.Render(18080, backends)
	p.Config.CookiePrefix = "b"
	b, _ := p.Config.Render(18080, backends)
	fs := Check([]*hacfg.Config{parse(t, "lb1.cfg", a), parse(t, "lb2.cfg", b)}, Options{})
	if got := ids(fs); !slices.Equal(got, []string{"cookie-value-differs", "cookie-value-differs", "cookie-value-differs"}) {
		t.Fatalf("findings %v", got)
	}
	f := fs[0]
	if f.File != "lb2.cfg" || f.Cause != report.CauseFrontendChanged || !strings.Contains(f.Problem, `"bs1" here but "s1" at lb1.cfg:`) {
		t.Errorf("%+v", f)
	}
}

func TestStickAcrossNodes(t *testing.T) {
	text := head + "backend be\n    stick-table type ip size 1m\n    stick on src\n    server a 127.0.0.1:1 id 1\n    server b 127.0.0.1:2 id 2\n"
	fs := Check([]*hacfg.Config{parse(t, "lb1.cfg", text), parse(t, "lb2.cfg", text)}, Options{})
	n := 0
	for _, f := range fs {
		if f.ID == "stick-no-peers-nodes" && f.Cause == report.CauseFrontendChanged {
			n++
		}
	}
	if n != 2 {
		t.Errorf("stick-no-peers-nodes on %d of 2 nodes: %v", n, ids(fs))
	}
	dyn := head + "backend be\n    cookie S insert indirect nocache dynamic\n    dynamic-cookie-key %s\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n"
	fs = Check([]*hacfg.Config{parse(t, "lb1.cfg", strings.Replace(dyn, "%s", "k1", 1)), parse(t, "lb2.cfg", strings.Replace(dyn, "%s", "k2", 1))}, Options{})
	if f, ok := find(fs, "dynamic-key-differs"); !ok || f.File != "lb2.cfg" || f.Line != 11 {
		t.Errorf("dynamic keys: %v %+v", ids(fs), f)
	}
}

// TestHAProxyCheckFindings: haproxy's own messages become findings at
// the line or section they name (cookie in mode tcp warns; appsession is
// refused).
func TestHAProxyCheckFindings(t *testing.T) {
	bin, err := lab.FindHAProxy()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(name, text string) []Finding {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		fs, err := HAProxyCheck(context.Background(), bin, parse(t, path, text), "")
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	fs := run("tcp.cfg", strings.Replace(head, "mode http", "mode tcp", 1)+"backend be\n    cookie S insert indirect nocache\n    server a 127.0.0.1:1 cookie a\n")
	if len(fs) != 2 || fs[0].ID != "haproxy-warning" || fs[0].Backend != "be" || fs[0].Line != 9 || !strings.Contains(fs[0].Problem, "cookie will be ignored for backend 'be' (needs 'mode http')") {
		t.Errorf("cookie in mode tcp: %+v", fs)
	}
	fs = run("app.cfg", head+"backend be\n    appsession JSESSIONID len 52 timeout 3h\n    server a 127.0.0.1:1\n")
	if len(fs) != 1 || fs[0].ID != "haproxy-alert" || fs[0].Severity != SevError || fs[0].Line != 10 || fs[0].Backend != "be" || !strings.Contains(fs[0].Problem, "not supported anymore") {
		t.Errorf("appsession: %+v", fs)
	}
}

func TestPointer(t *testing.T) {
	bad := head + "backend be\n    cookie S insert indirect nocache\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2\n    ignore-persist if { path_beg /s }\n"
	if got := Pointer([]string{bad}, nil); got != "haproxy.cfg:11-12 server-without-cookie" {
		t.Errorf("errors before info: %q", got)
	}
	good := head + "backend be\n    cookie S insert indirect nocache\n    server a 127.0.0.1:1 cookie a\n    server b 127.0.0.1:2 cookie b\n"
	if got := Pointer([]string{good, good}, nil); got != "clean" {
		t.Errorf("clean: %q", got)
	}
	if got := Pointer([]string{good, "global\n x \"y\n"}, nil); got != "node2.cfg:2: unmatched quote" {
		t.Errorf("unparseable: %q", got)
	}
}

// TestShopExample is the README's example: its findings, places and the
// backend its URL reaches.
func TestShopExample(t *testing.T) {
	res, cfgs, err := CheckFiles(context.Background(), []string{"testdata/shop.cfg"}, FileOptions{Ignore: []string{"no-persistence@be_static"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Pos()+" "+f.ID+" "+f.Backend)
	}
	want := []string{"testdata/shop.cfg:8 redispatch be_shop", "testdata/shop.cfg:8 redispatch be_api",
		"testdata/shop.cfg:24 secure-without-ssl be_shop", "testdata/shop.cfg:31-33 server-without-cookie be_api"}
	if !slices.Equal(got, want) || res.Silenced != 1 || res.HAProxy == "" {
		t.Errorf("findings %q (silenced %d, haproxy %q)\nwant %q", got, res.Silenced, res.HAProxy, want)
	}
	if s := ServedBy(cfgs[0], mustURL("http://api.shop.example/cart")); s.Backend != "be_api" {
		t.Errorf("served %+v", s)
	}
}

func TestNodesCompared(t *testing.T) {
	hashed := head + "backend be\n    balance source\n    hash-type consistent\n    server a 127.0.0.1:1\n    server b 127.0.0.1:2%s\n"
	fs := Check([]*hacfg.Config{parse(t, "lb1.cfg", strings.Replace(hashed, "%s", "", 1)), parse(t, "lb2.cfg", strings.Replace(hashed, "%s", " weight 3", 1))}, Options{})
	if f, ok := find(fs, "hash-servers-differ"); !ok || f.File != "lb2.cfg" || f.Line != 12 || f.Cause != report.CauseFrontendChanged || !strings.Contains(f.Problem, "a/1,b/3 here, a/1,b/1 there") {
		t.Errorf("hash: %v %+v", ids(fs), f)
	}
	same := strings.Replace(hashed, "%s", "", 1)
	if fs := Check([]*hacfg.Config{parse(t, "lb1.cfg", same), parse(t, "lb2.cfg", same)}, Options{}); len(fs) != 0 {
		t.Errorf("same servers: %v", ids(fs))
	}
	named := head + "backend be\n    cookie %s insert indirect nocache\n    server a 127.0.0.1:1 cookie a\n    server b 127.0.0.1:2 cookie b\n"
	fs = Check([]*hacfg.Config{parse(t, "lb1.cfg", strings.Replace(named, "%s", "SRV", 1)), parse(t, "lb2.cfg", strings.Replace(named, "%s", "SERVERID", 1))}, Options{})
	if f, ok := find(fs, "cookie-name-differs"); !ok || f.File != "lb2.cfg" || f.Line != 10 || len(fs) != 1 {
		t.Errorf("cookie names: %v %+v", ids(fs), f)
	}
}
