package scenarios

import (
	"fmt"
	"strings"
	"testing"
)

// wantErr checks that err is non-nil and that its text names every one of
// the given fragments (the flag and the offending input).
func wantErr(t *testing.T, err error, names ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one naming %q", names)
	}
	for _, n := range names {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not name %q", err, n)
		}
	}
}

func TestParseIdentify(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantKind IdentifyKind
		wantName string
		wantPat  string
		wantStr  string
		wantErr  string // fragment of the error besides the flag and input
	}{
		{name: "empty is auto", in: "", wantKind: IdentifyAuto, wantStr: "auto"},
		{name: "auto", in: "auto", wantKind: IdentifyAuto, wantStr: "auto"},
		{name: "header canonicalised", in: "header:x-backend", wantKind: IdentifyHeader, wantName: "X-Backend", wantStr: "header:X-Backend"},
		{name: "cookie keeps case", in: "cookie:SERVERID", wantKind: IdentifyCookie, wantName: "SERVERID", wantStr: "cookie:SERVERID"},
		{name: "cookie lower case", in: "cookie:route", wantKind: IdentifyCookie, wantName: "route", wantStr: "cookie:route"},
		{name: "body with group", in: `body:Hostname: (\S+)`, wantKind: IdentifyBody, wantPat: `Hostname: (\S+)`, wantStr: `body:Hostname: (\S+)`},
		{name: "body colon in pattern", in: "body:a:b", wantKind: IdentifyBody, wantPat: "a:b", wantStr: "body:a:b"},

		{name: "no colon", in: "header", wantErr: "want auto"},
		{name: "empty argument", in: "header:", wantErr: "want auto"},
		{name: "auto with argument", in: "auto:", wantErr: "want auto"},
		{name: "unknown kind", in: "query:x", wantErr: `unknown kind "query"`},
		{name: "kind is case sensitive", in: "Header:X", wantErr: "unknown kind"},
		{name: "header with space", in: "header:X Backend", wantErr: "not a valid header name"},
		{name: "header with colon", in: "header:X:Y", wantErr: "not a valid header name"},
		{name: "cookie with equals", in: "cookie:a=b", wantErr: "not a valid cookie name"},
		{name: "cookie non-ASCII", in: "cookie:sérvér", wantErr: "not a valid cookie name"},
		{name: "bad regexp", in: "body:(", wantErr: "bad regular expression"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIdentify(tt.in)
			if tt.wantErr != "" {
				wantErr(t, err, "--id", fmt.Sprintf("%q", tt.in), tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("ParseIdentify(%q): %v", tt.in, err)
			}
			if got.Kind != tt.wantKind || got.Name != tt.wantName {
				t.Errorf("ParseIdentify(%q) = %s/%q, want %s/%q", tt.in, got.Kind, got.Name, tt.wantKind, tt.wantName)
			}
			switch {
			case tt.wantPat == "" && got.Pattern != nil:
				t.Errorf("ParseIdentify(%q) pattern = %q, want none", tt.in, got.Pattern)
			case tt.wantPat != "" && (got.Pattern == nil || got.Pattern.String() != tt.wantPat):
				t.Errorf("ParseIdentify(%q) pattern = %v, want %q", tt.in, got.Pattern, tt.wantPat)
			}
			if s := got.String(); s != tt.wantStr {
				t.Errorf("String() = %q, want %q", s, tt.wantStr)
			}
		})
	}
}

func TestIdentifyZeroValueString(t *testing.T) {
	if got, want := (Identify{}).String(), "auto"; got != want {
		t.Errorf("Identify{}.String() = %q, want %q", got, want)
	}
}

func TestParseToken(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Token
		wantStr string
		wantErr string
	}{
		{name: "empty is auto", in: "", want: Token{Kind: TokenAuto}, wantStr: "auto"},
		{name: "auto", in: "auto", want: Token{Kind: TokenAuto}, wantStr: "auto"},
		{name: "source", in: "source", want: Token{Kind: TokenSource}, wantStr: "source"},
		{name: "none", in: "none", want: Token{Kind: TokenNone}, wantStr: "none"},
		{name: "cookie", in: "cookie:SERVERID", want: Token{Kind: TokenCookie, Name: "SERVERID"}, wantStr: "cookie:SERVERID"},
		{name: "cookie F5 pool", in: "cookie:BIGipServerpool_web", want: Token{Kind: TokenCookie, Name: "BIGipServerpool_web"}, wantStr: "cookie:BIGipServerpool_web"},

		{name: "cookie without name", in: "cookie:", wantErr: "not a valid cookie name"},
		{name: "cookie bad name", in: "cookie:a;b", wantErr: "not a valid cookie name"},
		{name: "cookie without colon", in: "cookie", wantErr: "want auto, cookie:NAME"},
		{name: "source with argument", in: "source:x", wantErr: "want auto, cookie:NAME"},
		{name: "upper case", in: "AUTO", wantErr: "want auto, cookie:NAME"},
		{name: "unknown", in: "header:X", wantErr: "want auto, cookie:NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseToken(tt.in)
			if tt.wantErr != "" {
				wantErr(t, err, "--token", fmt.Sprintf("%q", tt.in), tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("ParseToken(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseToken(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.wantStr {
				t.Errorf("String() = %q, want %q", s, tt.wantStr)
			}
		})
	}
}

func TestParseResolve(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Resolve
		wantStr string
		wantErr string
	}{
		{name: "IPv4", in: "app.test:8080:127.0.0.1", want: Resolve{Host: "app.test", Port: 8080, Addr: "127.0.0.1"}, wantStr: "app.test:8080:127.0.0.1"},
		{name: "host lower-cased", in: "LB.Example:443:10.0.0.1", want: Resolve{Host: "lb.example", Port: 443, Addr: "10.0.0.1"}, wantStr: "lb.example:443:10.0.0.1"},
		{name: "IPv6 with brackets", in: "lb.example:443:[::1]", want: Resolve{Host: "lb.example", Port: 443, Addr: "::1"}, wantStr: "lb.example:443:[::1]"},
		{name: "IPv6 without brackets", in: "lb.example:443:::1", want: Resolve{Host: "lb.example", Port: 443, Addr: "::1"}, wantStr: "lb.example:443:[::1]"},
		{name: "IPv6 canonicalised", in: "lb.example:443:[2001:DB8:0::1]", want: Resolve{Host: "lb.example", Port: 443, Addr: "2001:db8::1"}, wantStr: "lb.example:443:[2001:db8::1]"},
		{name: "IPv4-mapped IPv6", in: "lb.example:80:::ffff:127.0.0.1", want: Resolve{Host: "lb.example", Port: 80, Addr: "127.0.0.1"}, wantStr: "lb.example:80:127.0.0.1"},
		{name: "lowest port", in: "a:1:127.0.0.1", want: Resolve{Host: "a", Port: 1, Addr: "127.0.0.1"}, wantStr: "a:1:127.0.0.1"},
		{name: "highest port", in: "a:65535:127.0.0.1", want: Resolve{Host: "a", Port: 65535, Addr: "127.0.0.1"}, wantStr: "a:65535:127.0.0.1"},

		{name: "empty", in: "", wantErr: "want HOST:PORT:ADDR"},
		{name: "host only", in: "app.test", wantErr: "want HOST:PORT:ADDR"},
		{name: "no address", in: "app.test:80", wantErr: "want HOST:PORT:ADDR"},
		{name: "empty address", in: "app.test:80:", wantErr: "want HOST:PORT:ADDR"},
		{name: "empty host", in: ":80:127.0.0.1", wantErr: "want HOST:PORT:ADDR"},
		{name: "port zero", in: "app.test:0:127.0.0.1", wantErr: `bad port "0"`},
		{name: "port too big", in: "app.test:65536:127.0.0.1", wantErr: `bad port "65536"`},
		{name: "port not a number", in: "app.test:http:127.0.0.1", wantErr: `bad port "http"`},
		{name: "port empty", in: "app.test::127.0.0.1", wantErr: `bad port ""`},
		{name: "address is a name", in: "app.test:80:localhost", wantErr: `"localhost" is not an IP address`},
		{name: "address with port", in: "app.test:80:127.0.0.1:8080", wantErr: "is not an IP address"},
		{name: "address with zone", in: "app.test:80:[fe80::1%eth0]", wantErr: "is not an IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseResolve(tt.in)
			if tt.wantErr != "" {
				wantErr(t, err, "--resolve", fmt.Sprintf("%q", tt.in), tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("ParseResolve(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseResolve(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.wantStr {
				t.Errorf("String() = %q, want %q", s, tt.wantStr)
			}
			again, err := ParseResolve(got.String())
			if err != nil || again != got {
				t.Errorf("ParseResolve(%q) = %+v, %v; want %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Header
		wantErr string
	}{
		{name: "with space", in: "X-Test: yes", want: Header{Name: "X-Test", Value: "yes"}},
		{name: "without space", in: "x-test:yes", want: Header{Name: "X-Test", Value: "yes"}},
		{name: "value trimmed", in: "X-Test:   a b  ", want: Header{Name: "X-Test", Value: "a b"}},
		{name: "name trimmed", in: " X-Test : v", want: Header{Name: "X-Test", Value: "v"}},
		{name: "empty value", in: "X-Empty:", want: Header{Name: "X-Empty", Value: ""}},
		{name: "colon in value", in: "Referer: http://a.test:8080/", want: Header{Name: "Referer", Value: "http://a.test:8080/"}},
		{name: "host override", in: "host: app.test", want: Header{Name: "Host", Value: "app.test"}},
		{name: "tab inside value", in: "X-Tab: a\tb", want: Header{Name: "X-Tab", Value: "a\tb"}},
		{name: "UTF-8 value", in: "X-Name: café", want: Header{Name: "X-Name", Value: "café"}},

		{name: "no colon", in: "X-Test yes", wantErr: "want NAME:VALUE"},
		{name: "empty name", in: ": yes", wantErr: "want NAME:VALUE"},
		{name: "space in name", in: "X Test: yes", wantErr: "want NAME:VALUE"},
		{name: "CR LF in value", in: "X-Test: a\r\nX-Injected: b", wantErr: "control character"},
		{name: "LF in value", in: "X-Test: a\nb", wantErr: "control character"},
		{name: "NUL in value", in: "X-Test: a\x00b", wantErr: "control character"},
		{name: "other control in value", in: "X-Test: a\x01b", wantErr: "control character"},
		{name: "escape in value", in: "X-Test: a\x1bb", wantErr: "control character"},
		{name: "DEL in value", in: "X-Test: a\x7fb", wantErr: "control character"},
		{name: "control in name", in: "X-\x01Test: a", wantErr: "want NAME:VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHeader(tt.in)
			if tt.wantErr != "" {
				wantErr(t, err, "--header", fmt.Sprintf("%q", tt.in), tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("ParseHeader(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseHeader(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{name: "http", in: "http://lb.test:8080/app", want: "http://lb.test:8080/app"},
		{name: "https", in: "https://lb.test/", want: "https://lb.test/"},
		{name: "path defaults to slash", in: "http://lb.test", want: "http://lb.test/"},
		{name: "query kept", in: "http://lb.test?x=1", want: "http://lb.test/?x=1"},
		{name: "upper-case scheme", in: "HTTP://lb.test/", want: "http://lb.test/"},
		{name: "bare host", in: "lb.test", want: "http://lb.test/"},
		{name: "bare name and port", in: "localhost:8080", want: "http://localhost:8080/"},
		{name: "bare name, port and path", in: "lb.test:8080/app", want: "http://lb.test:8080/app"},
		{name: "bare IPv4 and port", in: "127.0.0.1:8080", want: "http://127.0.0.1:8080/"},
		{name: "bare IPv4, port and path", in: "127.0.0.1:8080/x", want: "http://127.0.0.1:8080/x"},
		{name: "bare IPv6 and port", in: "[::1]:8080", want: "http://[::1]:8080/"},
		{name: "IPv6", in: "http://[::1]:8080", want: "http://[::1]:8080/"},

		{name: "empty", in: "", wantErr: "empty target URL"},
		{name: "ftp", in: "ftp://lb.test/", wantErr: "scheme must be http or https"},
		{name: "ws", in: "ws://lb.test/", wantErr: "scheme must be http or https"},
		{name: "no host", in: "http:///path", wantErr: "no host"},
		{name: "bad port", in: "lb.test:http", wantErr: "invalid port"},
		{name: "port out of range", in: "http://127.0.0.1:99999/", wantErr: "port 99999: want 1-65535"},
		{name: "port zero", in: "127.0.0.1:0", wantErr: "port 0: want 1-65535"},
		{name: "space in host", in: "http://lb test/", wantErr: "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseURL(tt.in)
			if tt.wantErr != "" {
				if tt.in == "" {
					wantErr(t, err, tt.wantErr)
					return
				}
				wantErr(t, err, "target", fmt.Sprintf("%q", tt.in), tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.in, err)
			}
			if got.String() != tt.want {
				t.Errorf("ParseURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseConnPolicy(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    ConnPolicy
		wantErr bool
	}{
		{name: "fresh", in: "fresh", want: ConnFresh},
		{name: "session", in: "session", want: ConnSession},
		{name: "shared", in: "shared", want: ConnShared},
		{name: "empty", in: "", wantErr: true},
		{name: "upper case", in: "Fresh", wantErr: true},
		{name: "unknown", in: "keepalive", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConnPolicy(tt.in)
			if tt.wantErr {
				wantErr(t, err, "connection policy", fmt.Sprintf("%q", tt.in), "want fresh, session or shared")
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseConnPolicy(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func ExampleParseIdentify() {
	for _, s := range []string{"auto", "header:x-served-by", "cookie:SERVERID", `body:Hostname: (\S+)`} {
		id, err := ParseIdentify(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%-7s %q\n", id.Kind, id)
	}
	_, err := ParseIdentify("query:x")
	fmt.Println(err)
	// Output:
	// auto    "auto"
	// header  "header:X-Served-By"
	// cookie  "cookie:SERVERID"
	// body    "body:Hostname: (\\S+)"
	// --id "query:x": unknown kind "query"; want auto, header:NAME, cookie:NAME or body:REGEX
}

func ExampleParseResolve() {
	r, err := ParseResolve("LB.example:443:::1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Host, r.Port, r.Addr)
	fmt.Println(r)
	// Output:
	// lb.example 443 ::1
	// lb.example:443:[::1]
}
