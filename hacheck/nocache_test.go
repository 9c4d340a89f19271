package hacheck

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMeasuredNocache: behind `cookie ... insert nocache`, a cacheable
// response that gets the cookie is marked `Cache-Control: private`, so
// a shared cache does not hand one user's cookie to everyone; without
// nocache it leaves HAProxy as cacheable as the server made it.
func TestMeasuredNocache(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Write([]byte("home page\n"))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	for _, nocache := range []bool{false, true} {
		cookie := "cookie SERVERID insert indirect"
		if nocache {
			cookie += " nocache"
		}
		port := freePort(t)
		text := fmt.Sprintf("defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n"+
			"frontend fe\n    bind 127.0.0.1:%d\n    default_backend be\nbackend be\n    %s\n    server s1 %s cookie s1\n", port, cookie, ln.Addr())
		stop := startRawHAProxyStoppable(t, text, port)
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cc := strings.ToLower(strings.Join(resp.Header.Values("Cache-Control"), ", "))
		private := strings.Contains(cc, "private")
		if resp.Header.Get("Set-Cookie") == "" || private != nocache {
			t.Errorf("nocache=%v: Set-Cookie %q, Cache-Control %q", nocache, resp.Header.Get("Set-Cookie"), cc)
		}
		t.Logf("nocache=%v: Cache-Control %q", nocache, cc)
		stop()
	}
}
