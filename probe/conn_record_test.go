package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// TestClientFeedsRecorder: with the probe's own client, a recording run
// still gets every phase of a new TLS connection to a name (DNS, connect,
// TLS), the server's address and the head as written; a reused connection
// has no DNS, connect or TLS phase.
func TestClientFeedsRecorder(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "SERVERID", Value: "s1", Path: "/"})
		w.Write([]byte("hello"))
	}))
	defer srv.Close()
	spec := scenarios.Default()
	u, err := scenarios.ParseURL(strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/p")
	if err != nil {
		t.Fatal(err)
	}
	spec.URLs = []*url.URL{u}
	spec.Insecure = true
	spec.Sessions, spec.ControlSessions, spec.Requests, spec.Conn = 1, 0, 2, scenarios.ConnSession
	spec.Token = scenarios.Token{Kind: scenarios.TokenCookie, Name: "SERVERID"}
	r, err := NewRunner(spec, WithTrace(Trace{Headers: true}))
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan Event, 10)
	go r.Run(context.Background(), out)
	var evs []Event
	for ev := range out {
		evs = append(evs, ev)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	first, second := evs[0].HTTP, evs[1].HTTP
	if first == nil || second == nil {
		t.Fatal("no exchange recorded")
	}
	tm := first.Timings
	if tm.DNS < 0 || tm.Connect < 0 || tm.TLS < 0 || tm.Send < 0 || tm.Wait < 0 || tm.Receive < 0 || tm.Blocked < 0 {
		t.Errorf("new connection: timings %+v, want every phase", tm)
	}
	if first.Remote != srv.Listener.Addr().String() {
		t.Errorf("remote %q, want %q", first.Remote, srv.Listener.Addr())
	}
	if first.Proto != "HTTP/1.1" || first.StatusText != "OK" || first.BodySize != 5 {
		t.Errorf("response %q %q %d", first.Proto, first.StatusText, first.BodySize)
	}
	want := []Header{{Name: "Host", Value: u.Host}, {Name: "User-Agent", Value: "stickyprobe"}}
	if len(first.Request) != 2 || first.Request[0] != want[0] || first.Request[1] != want[1] {
		t.Errorf("first request headers %+v, want %+v", first.Request, want)
	}
	if n := len(second.Request); n != 3 || second.Request[2] != (Header{Name: "Cookie", Value: "SERVERID=s1"}) {
		t.Errorf("second request headers %+v, want the token's cookie last", second.Request)
	}
	if !evs[1].Reused {
		t.Fatal("second request on a new connection")
	}
	if tm := second.Timings; tm.DNS != -1 || tm.Connect != -1 || tm.TLS != -1 {
		t.Errorf("reused connection: timings %+v, want no DNS, connect or TLS", tm)
	}
}
