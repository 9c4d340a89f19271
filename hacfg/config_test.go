package hacfg

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parseString(t *testing.T, text string) *Config {
	t.Helper()
	cfg, err := Parse("t.cfg", []byte(text), Options{Env: lookupTest})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

func TestProductionShapedConfig(t *testing.T) {
	cfg, err := ParseFile("testdata/production.cfg", Options{Env: lookupTest})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range cfg.Sections {
		names = append(names, s.Kind+":"+s.Name)
	}
	want := "global: peers:edge defaults:web defaults:tcp frontend:fe_http frontend:fe_https backend:be_shop " +
		"backend:be_api backend:be_static backend:be_admin listen:stats listen:db"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("sections\n got %s\nwant %s", got, want)
	}
	shop := cfg.Find("backend", "be_shop")
	if m, l := shop.Mode(); m != "http" || l.Num != 19 {
		t.Errorf("be_shop mode %s from line %d, want http from the web defaults at line 19", m, l.Num)
	}
	if on, l, ok := shop.Option("redispatch"); !on || !ok || l.Pos() != "testdata/production.cfg:23" {
		t.Errorf("be_shop redispatch %v %v at %s", on, ok, l.Pos())
	}
	c, _ := shop.Lookup("cookie")
	if c.Num != 52 || c.Args[len(c.Args)-1] != "SameSite=Lax" {
		t.Errorf("cookie line %d %q", c.Num, c.Args)
	}
	if servers := shop.All("server"); len(servers) != 3 || servers[2].Args[1] != "shop3" || servers[2].Num != 56 {
		t.Errorf("servers %v", servers)
	}
	if m, _ := cfg.Find("backend", "db").Mode(); m != "tcp" {
		t.Errorf("listen db (from tcp) mode %s", m)
	}
	if m, _ := cfg.Find("listen", "stats").Mode(); m != "http" {
		t.Errorf("listen stats mode %s", m)
	}
	// No defaults section before the peers; global lines stay in global.
	if g := cfg.Sections[0]; len(g.Lines) != 5 {
		t.Errorf("global has %d lines (the .if block is not taken without the variable): %v", len(g.Lines), g.Lines)
	}
}

func TestDefaultsInheritance(t *testing.T) {
	cfg := parseString(t, `
defaults a
    mode http
    balance source
defaults
    mode tcp
backend b1
    server s 127.0.0.1:1
backend b2 from a
    no option redispatch
defaults c from a
    option redispatch
backend b3
listen l4 from c
    balance roundrobin
`)
	tests := []struct {
		name, mode, balance string
		redispatch          bool
	}{
		{"b1", "tcp", "", false}, // the last defaults before it, the unnamed one, which does not inherit a
		{"b2", "http", "source", false},
		{"b3", "http", "source", true}, // c is the last defaults, and c is from a
		{"l4", "http", "roundrobin", true},
	}
	for _, tt := range tests {
		s := cfg.Find("backend", tt.name)
		mode, _ := s.Mode()
		bal := ""
		if l, ok := s.Lookup("balance"); ok {
			bal = l.Args[1]
		}
		red, _, _ := s.Option("redispatch")
		if mode != tt.mode || bal != tt.balance || red != tt.redispatch {
			t.Errorf("%s: mode %s balance %q redispatch %v; want %s %q %v", tt.name, mode, bal, red, tt.mode, tt.balance, tt.redispatch)
		}
	}
}

func TestConditions(t *testing.T) {
	cfg := parseString(t, `
global
.if defined(FOO)
    a 1
.elif 1
    a 2
.endif
.if defined(NOPE) || streq("${FOO}",bye)
    b 1
.elif strneq("${FOO}",hello)
    b 2
.else
    b 3
.endif
.if version_atleast(2.6) && !version_atleast(2.7) && version_before(2.6.13)
    c 1
  .if 0
    d 1
  .else
    d 2
  .endif
.endif
.if 0
  .if 1
    e 1
  .else
    e 2
  .endif
.endif
.if (0 || (1 && defined(EMPTY))) && !feature(LUA)
    f 1
.endif
.if
    g 1
.endif
`)
	var got []string
	for _, l := range cfg.Sections[0].Lines {
		got = append(got, strings.Join(l.Args, ""))
	}
	if s := strings.Join(got, " "); s != "a1 b3 c1 d2 f1" {
		t.Errorf("kept %s, want a1 b3 c1 d2 f1", s)
	}
}

func TestErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		text string
		line int
		msg  string
	}{
		{"global\n  a \"b\n", 2, "unmatched quote"},
		{"  maxconn 10\n", 1, "outside any section"},
		{"global\n.if 1\n", 2, "never closed"},
		{"global\n.else\n", 2, "'.else' without"},
		{"global\n.if 1\n.else\n.else\n.endif\n", 4, "'.else' without"},
		{"global\n.if 1\n.else\n.elif 1\n.endif\n", 4, "'.elif' without"},
		{"global\n.endif\n", 2, "'.endif' without"},
		{"global\n.if bogus(1)\n.endif\n", 2, "unknown predicate"},
		{"global\n.if streq(a)\n.endif\n", 2, "takes 2"},
		{"global\n.if (1\n.endif\n", 2, "missing ')'"},
		{"global\n.if 1 2\n.endif\n", 2, "unexpected"},
		{"global\n.if 1\n.alert stop\n.endif\n", 3, "stops itself"},
		{"backend\n", 1, "needs a name"},
		{"backend b from nope\n", 1, "no defaults section"},
		{"defaults d\nbackend b from\n", 2, "needs the name"},
		{"defaults d\nbackend b from d x\n", 2, "unexpected 'x'"},
		{"peers p from d\n", 1, "only applies"},
		{"global\n\x00\n", 2, "NUL"},
		{"global\n a \"${X\"\n", 2, "missing '}'"},
	}
	for _, tt := range tests {
		_, err := Parse("t.cfg", []byte(tt.text), Options{Env: lookupTest})
		var pe *Error
		if !errors.As(err, &pe) || pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) || pe.File != "t.cfg" {
			t.Errorf("Parse(%q) = %v; want t.cfg:%d ... %s", tt.text, err, tt.line, tt.msg)
		}
	}
	_, err := ParseFile(filepath.Join(t.TempDir(), "missing.cfg"), Options{})
	if err == nil || !strings.Contains(err.Error(), "missing.cfg: ") || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ParseFile(t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
}

// TestDebianExamples parses the example configs the haproxy package
// installs: real-world files this package must read without error.
func TestDebianExamples(t *testing.T) {
	files, _ := filepath.Glob("/usr/share/doc/haproxy/examples/*.cfg")
	if len(files) == 0 {
		t.Fatal("no /usr/share/doc/haproxy/examples/*.cfg: install the haproxy package (Debian/Ubuntu: sudo apt-get install -y haproxy)")
	}
	proxies := 0
	for _, f := range files {
		cfg, err := ParseFile(f, Options{Env: func(string) (string, bool) { return "", false }})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		proxies += len(cfg.Proxies())
		for _, p := range cfg.Proxies() {
			if p.Header.Num == 0 || p.Name == "" {
				t.Errorf("%s: proxy without line or name: %+v", f, p.Header)
			}
		}
	}
	if proxies < len(files) {
		t.Errorf("%d proxies in %d example files: the parser lost sections", proxies, len(files))
	}
}

func TestEnvDefaultIsOS(t *testing.T) {
	t.Setenv("HACFG_TEST_PORT", "8443")
	cfg, err := Parse("t.cfg", []byte("frontend f\n bind \":${HACFG_TEST_PORT}\"\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Sections[0].Lines[0].Args[1]; got != ":8443" {
		t.Errorf("bind %q", got)
	}
	_ = os.Getenv
}
