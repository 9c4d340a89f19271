package probe

import (
	"net/http"
	"testing"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

func mustIdentify(t testing.TB, s string) *identifier {
	t.Helper()
	spec, err := scenarios.ParseIdentify(s)
	if err != nil {
		t.Fatal(err)
	}
	return newIdentifier(spec)
}

func TestIdentifierBackend(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		headers map[string]string
		body    string
		set     string // value of the identity cookie the response set
		sent    string // value of the identity cookie the request sent
		status  int    // 0: 200
		want    string
	}{
		{name: "header", id: "header:X-Backend", headers: map[string]string{"X-Backend": "s1"}, want: "s1"},
		{name: "header lower-case flag", id: "header:x-backend", headers: map[string]string{"X-Backend": "s1"}, want: "s1"},
		{name: "header missing", id: "header:X-Backend", headers: map[string]string{"X-Server": "s1"}, want: ""},
		{name: "header ignores cookies", id: "header:X-Backend", set: "s1", sent: "s2", want: ""},

		{name: "auto X-Backend first", id: "auto", headers: map[string]string{"X-Backend": "b", "X-Server": "s", "X-Served-By": "v"}, want: "b"},
		{name: "auto X-Server second", id: "auto", headers: map[string]string{"X-Server": "s", "X-Served-By": "v"}, want: "s"},
		{name: "auto X-Served-By third", id: "auto", headers: map[string]string{"X-Served-By": "v"}, want: "v"},
		{name: "auto header over cookie", id: "auto", headers: map[string]string{"X-Served-By": "v"}, set: "s1", sent: "s2", want: "v"},
		{name: "auto cookie set", id: "auto", set: "s1", sent: "s2", want: "s1"},
		{name: "auto cookie sent", id: "auto", sent: "s2", want: "s2"},
		{name: "auto cookie prefix mode", id: "auto", set: "s1~a1b2c3", want: "s1"},
		{name: "auto nothing", id: "auto", headers: map[string]string{"X-Other": "x"}, want: ""},

		{name: "cookie set", id: "cookie:SERVERID", set: "s1", want: "s1"},
		{name: "cookie set wins over sent", id: "cookie:SERVERID", set: "s1", sent: "s2", want: "s1"},
		{name: "cookie sent taken as honoured", id: "cookie:SERVERID", sent: "s2", want: "s2"},
		{name: "cookie HAProxy prefix", id: "cookie:SERVERID", set: "s1~abc", want: "s1"},
		{name: "cookie prefix sent", id: "cookie:SERVERID", sent: "s3~x~y", want: "s3"},
		{name: "cookie ignores headers", id: "cookie:SERVERID", headers: map[string]string{"X-Backend": "b"}, want: ""},
		{name: "cookie neither", id: "cookie:SERVERID", want: ""},
		// An LB's 503 (no server could answer) honoured nobody's cookie.
		{name: "cookie sent, LB error page", id: "cookie:SERVERID", sent: "s2", status: 503, want: ""},
		{name: "cookie set on a 5xx", id: "cookie:SERVERID", set: "s1", sent: "s2", status: 502, want: "s1"},
		{name: "auto cookie sent, LB error page", id: "auto", sent: "s2", status: 503, want: ""},

		{name: "body with group", id: `body:Hostname: (\S+)`, body: "<p>Hostname: web-2</p>\n", want: "web-2</p>"},
		{name: "body with group, tight", id: `body:Hostname: (\w[\w-]*)`, body: "<p>Hostname: web-2</p>\n", want: "web-2"},
		{name: "body without group", id: `body:web-\d+`, body: "served by web-7 today", want: "web-7"},
		{name: "body first match", id: `body:web-\d+`, body: "web-1 web-2", want: "web-1"},
		{name: "body no match", id: `body:Hostname: (\S+)`, body: "nothing here", want: ""},
		{name: "body empty", id: `body:Hostname: (\S+)`, want: ""},
		{name: "body ignores cookies and headers", id: `body:Hostname: (\S+)`, headers: map[string]string{"X-Backend": "b"}, set: "s1", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := mustIdentify(t, tt.id)
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			status := tt.status
			if status == 0 {
				status = 200
			}
			if got := id.backend(status, h, []byte(tt.body), tt.set, tt.sent); got != tt.want {
				t.Errorf("%s: backend(%v, %q, set %q, sent %q) = %q, want %q", tt.id, tt.headers, tt.body, tt.set, tt.sent, got, tt.want)
			}
		})
	}
}

// Once a header named a backend, auto mode does not fall back to the
// cookie: "server1" and "s1" would be two backends for one server.
func TestIdentifierAutoKeepsToHeaders(t *testing.T) {
	id := mustIdentify(t, "auto")
	if got := id.backend(200, http.Header{}, nil, "", "s1"); got != "s1" {
		t.Fatalf("before any header: %q, want the cookie's s1", got)
	}
	if got := id.backend(200, http.Header{"X-Backend": {"server1"}}, nil, "", "s1"); got != "server1" {
		t.Fatalf("with the header: %q, want server1", got)
	}
	if got := id.backend(200, http.Header{}, nil, "s1", "s1"); got != "" {
		t.Errorf("after a header named a backend, a response without one gave %q, want none", got)
	}
}

func TestIdentifierCookieName(t *testing.T) {
	tests := []struct {
		id, token, want string
		needsBody       bool
	}{
		{id: "cookie:BACKEND", token: "SERVERID", want: "BACKEND"},
		{id: "cookie:BACKEND", token: "", want: "BACKEND"},
		{id: "auto", token: "SERVERID", want: "SERVERID"},
		{id: "auto", token: "", want: ""},
		{id: "header:X-Backend", token: "SERVERID", want: ""},
		{id: `body:(\w+)`, token: "SERVERID", want: "", needsBody: true},
	}
	for _, tt := range tests {
		t.Run(tt.id+"/"+tt.token, func(t *testing.T) {
			id := mustIdentify(t, tt.id)
			if got := id.cookieName(tt.token); got != tt.want {
				t.Errorf("cookieName(%q) = %q, want %q", tt.token, got, tt.want)
			}
			if got := id.needsBody(); got != tt.needsBody {
				t.Errorf("needsBody() = %v, want %v", got, tt.needsBody)
			}
		})
	}
}

func TestServerFromCookie(t *testing.T) {
	tests := []struct{ in, want string }{
		{"s1", "s1"},
		{"s1~abc", "s1"},
		{"s1~", "s1"},
		{"~abc", ""},
		{"", ""},
		{"a~b~c", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := serverFromCookie(tt.in); got != tt.want {
				t.Errorf("serverFromCookie(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
