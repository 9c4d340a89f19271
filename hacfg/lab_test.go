package hacfg

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
)

// TestLabConfigs parses every config the lab generates and checks that
// the backend reads back as the preset wrote it.
func TestLabConfigs(t *testing.T) {
	var backends []*lab.Backend
	for i := 1; i <= 3; i++ {
		b, err := lab.StartBackend("server"+strconv.Itoa(i), lab.BackendOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Stop()
		backends = append(backends, b)
	}
	for _, p := range lab.Presets() {
		if p.Config.Peers {
			p.Config.PeersPort = 18081
		}
		text, err := p.Config.Render(18080, backends)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		cfg, err := Parse(p.Name+".cfg", []byte(text), Options{})
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		be := cfg.Find("backend", "be_app")
		if be == nil {
			t.Fatalf("%s: no be_app", p.Name)
		}
		servers := be.All("server")
		want := p.Config.Servers
		if want == 0 {
			want = len(backends)
		}
		if len(servers) != want {
			t.Errorf("%s: %d servers, want %d", p.Name, len(servers), want)
		}
		c, ok := be.Lookup("cookie")
		if got := strings.Join(c.Args, " "); ok != (p.Config.Cookie != "") || ok && got != "cookie "+p.Config.Cookie {
			t.Errorf("%s: cookie line %q, preset %q", p.Name, got, p.Config.Cookie)
		}
		if ok && !strings.HasPrefix(strings.Split(text, "\n")[c.Num-1], "    cookie ") {
			t.Errorf("%s: cookie at line %d, but that line is %q", p.Name, c.Num, strings.Split(text, "\n")[c.Num-1])
		}
		if m, _ := be.Mode(); m != "http" {
			t.Errorf("%s: mode %s", p.Name, m)
		}
		if fe := cfg.Find("frontend", "fe_main"); fe == nil || len(fe.All("bind")) != 1 {
			t.Errorf("%s: frontend fe_main with one bind: %+v", p.Name, fe)
		}
	}
}

// TestDefaultsResetMatchesHAProxy: an unnamed defaults section after a
// named one does not inherit from it. haproxy -c proves it (it warns
// that b1's http-request rules need HTTP mode, not b2's) and so must
// the parser.
func TestDefaultsResetMatchesHAProxy(t *testing.T) {
	text := `defaults a
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
defaults
    timeout connect 1s
    timeout client 1s
    timeout server 1s
backend b1
    http-request set-header X-A 1
    server s 127.0.0.1:1
backend b2 from a
    http-request set-header X-A 1
    server s 127.0.0.1:1
`
	path := filepath.Join(t.TempDir(), "d.cfg")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, haproxyBinary(t), "-c", "-f", path).CombinedOutput()
	if !strings.Contains(string(out), "backend 'b1' as they require HTTP mode") || strings.Contains(string(out), "'b2'") {
		t.Fatalf("haproxy no longer resets defaults this way:\n%s", out)
	}
	cfg := parseString(t, text)
	if m, _ := cfg.Find("backend", "b1").Mode(); m != "tcp" {
		t.Errorf("b1 mode %s, haproxy says tcp", m)
	}
	if m, _ := cfg.Find("backend", "b2").Mode(); m != "http" {
		t.Errorf("b2 mode %s, haproxy says http", m)
	}
}
