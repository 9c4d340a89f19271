package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// fakeBackends gives Render names and addresses without starting servers;
// `haproxy -c` does not connect to them.
func fakeBackends(n int) []*Backend {
	var bs []*Backend
	for i := 1; i <= n; i++ {
		bs = append(bs, &Backend{name: fmt.Sprintf("server%d", i), addr: fmt.Sprintf("127.0.0.1:%d", 20000+i)})
	}
	return bs
}

func TestPresetsOrderAndLookup(t *testing.T) {
	t.Parallel()
	want := []string{"textbook", "redispatch", "no-cookie", "no-server-cookie", "single-backend", "cookie-domain", "cookie-secure", "stick-app-cookie", "source"}
	ps := Presets()
	if len(ps) != len(want) {
		t.Fatalf("%d presets, want %d", len(ps), len(want))
	}
	for i, p := range ps {
		if p.Name != want[i] {
			t.Errorf("preset %d is %q, want %q", i, p.Name, want[i])
		}
		if p.Description == "" || strings.Contains(p.Description, "\n") {
			t.Errorf("preset %q: description must be one non-empty line: %q", p.Name, p.Description)
		}
		if got, ok := PresetByName(p.Name); !ok || got.Name != p.Name {
			t.Errorf("PresetByName(%q) = %v, %v", p.Name, got, ok)
		}
	}
	if _, ok := PresetByName("nope"); ok {
		t.Error("PresetByName found an unknown preset")
	}
	ps[0].Config.Cookie = "mutated"
	if p, _ := PresetByName("textbook"); p.Config.Cookie == "mutated" {
		t.Error("Presets() shares state with callers")
	}
}

func TestRenderPresets(t *testing.T) {
	t.Parallel()
	requireHAProxy(t)
	bin, _ := FindHAProxy()
	tests := []struct {
		preset  string
		want    []string
		notWant []string
		servers int
	}{
		{"textbook", []string{"balance roundrobin", "cookie SERVERID insert indirect nocache\n", " cookie s1\n", " cookie s2\n", " cookie s3\n"}, nil, 3},
		{"no-cookie", []string{"balance roundrobin"}, []string{"cookie"}, 3},
		{"no-server-cookie", []string{"balance roundrobin", "    cookie SERVERID insert indirect nocache\n"}, []string{" cookie s"}, 3},
		{"single-backend", []string{"balance roundrobin", "server server1 "}, []string{"cookie", "server2"}, 1},
		{"cookie-domain", []string{"cookie SERVERID insert indirect nocache domain .example.org\n", " cookie s1\n"}, nil, 3},
		{"cookie-secure", []string{"cookie SERVERID insert indirect nocache secure\n", " cookie s1\n"}, nil, 3},
		{"stick-app-cookie", []string{"balance roundrobin", "peers lab\n", "    peer stickyprobe-lab 127.0.0.1:18090\n",
			"stick-table type string len 64 size 100k expire 30m peers lab\n", "stick store-response res.cook(APPSESSION)\n",
			"stick match req.cook(APPSESSION)\n"}, []string{" cookie s"}, 3},
		{"source", []string{"balance source"}, []string{"cookie", "roundrobin"}, 3},
	}
	common := []string{
		"global\n", "    maxconn 4096\n", "defaults\n", "    mode http\n",
		"    timeout connect 2s\n", "    timeout client 30s\n", "    timeout server 30s\n", "    retries 2\n",
		"frontend fe_main\n", "    bind 127.0.0.1:18080\n", "backend be_app\n",
		"    server server1 127.0.0.1:20001 check inter 500ms",
	}
	for _, tc := range tests {
		t.Run(tc.preset, func(t *testing.T) {
			t.Parallel()
			p, _ := PresetByName(tc.preset)
			if p.Config.Peers {
				p.Config.PeersPort = 18090
			}
			cfg, err := p.Config.Render(18080, fakeBackends(3))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range append(common, tc.want...) {
				if !strings.Contains(cfg, s) {
					t.Errorf("config lacks %q:\n%s", s, cfg)
				}
			}
			for _, s := range append(tc.notWant, "user ", "group ", "daemon", "0.0.0.0") {
				if strings.Contains(cfg, s) {
					t.Errorf("config contains %q:\n%s", s, cfg)
				}
			}
			if got := strings.Count(cfg, "    server "); got != tc.servers {
				t.Errorf("%d server lines, want %d", got, tc.servers)
			}
			dir, path, err := writeConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(dir)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if out, err := exec.CommandContext(ctx, bin, append(p.Config.args(), "-c", "-f", path)...).CombinedOutput(); err != nil {
				t.Fatalf("haproxy -c: %v\n%s\n%s", err, out, cfg)
			}
		})
	}
}

func TestRenderOptionsAndErrors(t *testing.T) {
	t.Parallel()
	bs := fakeBackends(3)
	cfg, err := HAProxyConfig{Mode: "tcp", Balance: "leastconn", Servers: 2,
		BackendLines: []string{"stick-table type ip size 1m", "  stick on src  "}}.Render(18080, bs)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"    mode tcp\n", "    balance leastconn\n", "    stick-table type ip size 1m\n", "    stick on src\n", "server server2 ", "127.0.0.1:20002"} {
		if !strings.Contains(cfg, s) {
			t.Errorf("config lacks %q:\n%s", s, cfg)
		}
	}
	if strings.Contains(cfg, "server3") {
		t.Errorf("Servers=2 but server3 rendered:\n%s", cfg)
	}
	for name, tc := range map[string]struct {
		cfg  HAProxyConfig
		port int
		bs   []*Backend
	}{
		"bad mode":        {HAProxyConfig{Mode: "udp"}, 18080, bs},
		"too many":        {HAProxyConfig{Servers: 4}, 18080, bs},
		"negative":        {HAProxyConfig{Servers: -1}, 18080, bs},
		"no backends":     {HAProxyConfig{}, 18080, nil},
		"port 0":          {HAProxyConfig{}, 0, bs},
		"port too big":    {HAProxyConfig{}, 70000, bs},
		"newline line":    {HAProxyConfig{BackendLines: []string{"stick on src\nfrontend evil"}}, 18080, bs},
		"newline cookie":  {HAProxyConfig{Cookie: "SERVERID insert\nlisten x"}, 18080, bs},
		"newline balance": {HAProxyConfig{Balance: "roundrobin\r\n"}, 18080, bs},
		"peers no port":   {HAProxyConfig{Peers: true}, 18080, bs},
		"peers same port": {HAProxyConfig{Peers: true, PeersPort: 18080}, 18080, bs},
	} {
		if _, err := tc.cfg.Render(tc.port, tc.bs); err == nil {
			t.Errorf("%s: Render succeeded", name)
		}
	}
}
