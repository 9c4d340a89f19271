package hacheck

import (
	"context"
	"fmt"
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

func TestServedByProduction(t *testing.T) {
	text, err := os.ReadFile("../hacfg/testdata/production.cfg")
	if err != nil {
		t.Fatal(err)
	}
	cfg := parse(t, "production.cfg", string(text))
	tests := []struct{ url, backend, note string }{
		{"https://api.shop.example/v1/cart", "be_api", ""},
		{"https://shop.example/static/app.css", "be_static", ""},
		{"https://shop.example/cart", "be_shop", ""},
		{"https://shop.example/admin/users", "", "depends on more than the URL"},
		{"https://api.shop.example:443/", "be_shop", ""}, // the Host header carries the port, host_api does not match
		{"http://shop.example/", "", "no rule for this URL and no default_backend"},
		{"https://shop.example:8443/", "", "no frontend binds port 8443"},
		{"http://127.0.0.1:5432/", "db", ""},
	}
	for _, tt := range tests {
		s := ServedBy(cfg, mustURL(tt.url))
		if s.Backend != tt.backend || tt.note != "" && !strings.Contains(s.Note, tt.note) || tt.backend != "" && s.Rule == "" {
			t.Errorf("%s: %+v; want backend %q, note ~%q", tt.url, s, tt.backend, tt.note)
		}
	}
	if s := ServedBy(cfg, mustURL("https://api.shop.example/")); !strings.HasPrefix(s.Rule, "production.cfg:45 use_backend be_api if host_api") {
		t.Errorf("rule %q", s.Rule)
	}
}

// routingConfig routes to three backends by Host and path, the way the
// checks read it; TestServedByMatchesHAProxy sends real requests.
const routingConfig = `defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:%d
    acl host_api hdr(host) -i api.example:%d
    acl host_dom hdr_dom(host) -i shop.example
    acl static path_beg /static/ /assets/
    acl img path_end .png
    acl v2 path_reg ^/v2/[a-z]+$
    acl admin url_sub admin
    use_backend b1 if host_api
    use_backend b2 if static or img
    use_backend b3 if v2 !admin
    use_backend b1 unless { path_beg / }
    use_backend b1 if host_dom admin
    use_backend b3 if { base_beg www.other.example }
    default_backend b2
backend b1
    server server1 %s
backend b2
    server server2 %s
backend b3
    server server3 %s
`

func TestServedByMatchesHAProxy(t *testing.T) {
	backends := labBackends(t)
	port := freePort(t)
	text := fmt.Sprintf(routingConfig, port, port, backends[0].Addr(), backends[1].Addr(), backends[2].Addr())
	startRawHAProxy(t, text, port)
	cfg := parse(t, "routing.cfg", text)
	urls := []string{"http://api.example:%d/", "http://x.example:%d/static/a.css", "http://x.example:%d/img/a.png",
		"http://x.example:%d/v2/items", "http://x.example:%d/v2/admin", "http://shop.example:%d/admin",
		"http://www.shop.example:%d/admin", "http://noshop.example:%d/admin", "http://www.other.example:%d/", "http://x.example:%d/"}
	seen := map[string]int{}
	for _, f := range urls {
		raw := fmt.Sprintf(f, port)
		u := mustURL(raw)
		req, _ := http.NewRequest("GET", "http://127.0.0.1:"+fmt.Sprint(port)+u.RequestURI(), nil)
		req.Host = u.Host
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := map[string]string{"server1": "b1", "server2": "b2", "server3": "b3"}[resp.Header.Get("X-Backend")]
		seen[want]++
		if s := ServedBy(cfg, u); s.Backend != want {
			t.Errorf("%s: HAProxy served it from %s, ServedBy says %+v", raw, want, s)
		}
	}
	if seen["b1"] != 3 || seen["b2"] != 5 || seen["b3"] != 2 {
		t.Errorf("HAProxy's routing %v: the config no longer exercises every rule", seen)
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startRawHAProxy runs haproxy in the foreground with text until the test
// ends, once it accepts connections on port.
func startRawHAProxy(t *testing.T, text string, port int) {
	t.Helper()
	t.Cleanup(startRawHAProxyStoppable(t, text, port))
}

// startRawHAProxyStoppable is startRawHAProxy that returns its stop.
func startRawHAProxyStoppable(t *testing.T, text string, port int) (stop func()) {
	t.Helper()
	bin, err := lab.FindHAProxy()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-db", "-f", path)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() { cancel(); cmd.Wait() }
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return stop
		}
	}
	stop()
	t.Fatalf("haproxy did not listen on %d:\n%s", port, out.String())
	return nil
}

// TestPrepareHostHeader: a probe of an address with a Host header (as
// --header Host: sends) is routed by that header, port kept for the bind.
func TestPrepareHostHeader(t *testing.T) {
	u := mustURL("http://127.0.0.1/cart")
	j, err := Prepare(context.Background(), []string{"testdata/shop.cfg"}, u, FileOptions{HAProxy: NoHAProxy, Options: Options{Host: "api.shop.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Served) != 1 || j.Served[0].Backend != "be_api" || j.Loss != "failover-stay" || !strings.HasPrefix(j.LossFrom, "testdata/shop.cfg:8 option redispatch") {
		t.Errorf("%+v", j)
	}
	j, _ = Prepare(context.Background(), []string{"testdata/shop.cfg"}, u, FileOptions{HAProxy: NoHAProxy})
	if j.Served[0].Backend != "be_shop" {
		t.Errorf("without the header: %+v", j.Served)
	}
}
