package scenarios

import (
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// IdentifyKind says where the backend identity of a response is read from.
type IdentifyKind string

const (
	// IdentifyAuto tries the usual response headers (X-Backend, X-Server,
	// X-Served-By), then the value of the affinity cookie.
	IdentifyAuto   IdentifyKind = "auto"
	IdentifyHeader IdentifyKind = "header"
	IdentifyCookie IdentifyKind = "cookie"
	IdentifyBody   IdentifyKind = "body"
)

// AutoIdentifyHeaders are tried in order by IdentifyAuto.
var AutoIdentifyHeaders = []string{"X-Backend", "X-Server", "X-Served-By"}

// Identify is a parsed --id value.
type Identify struct {
	Kind    IdentifyKind
	Name    string         // header or cookie name
	Pattern *regexp.Regexp // body pattern; its first group, if any, is the identity
}

func (id Identify) String() string {
	switch id.Kind {
	case IdentifyHeader, IdentifyCookie:
		return string(id.Kind) + ":" + id.Name
	case IdentifyBody:
		return "body:" + id.Pattern.String()
	}
	return string(IdentifyAuto)
}

// ParseIdentify parses auto, header:NAME, cookie:NAME or body:REGEX.
func ParseIdentify(s string) (Identify, error) {
	if s == "" || s == string(IdentifyAuto) {
		return Identify{Kind: IdentifyAuto}, nil
	}
	kind, arg, ok := strings.Cut(s, ":")
	if !ok || arg == "" {
		return Identify{}, fmt.Errorf("--id %q: want auto, header:NAME, cookie:NAME or body:REGEX", s)
	}
	switch IdentifyKind(kind) {
	case IdentifyHeader:
		if !validToken(arg) {
			return Identify{}, fmt.Errorf("--id %q: %q is not a valid header name", s, arg)
		}
		return Identify{Kind: IdentifyHeader, Name: http.CanonicalHeaderKey(arg)}, nil
	case IdentifyCookie:
		if !validToken(arg) {
			return Identify{}, fmt.Errorf("--id %q: %q is not a valid cookie name", s, arg)
		}
		return Identify{Kind: IdentifyCookie, Name: arg}, nil
	case IdentifyBody:
		re, err := regexp.Compile(arg)
		if err != nil {
			return Identify{}, fmt.Errorf("--id %q: bad regular expression: %v", s, err)
		}
		return Identify{Kind: IdentifyBody, Pattern: re}, nil
	}
	return Identify{}, fmt.Errorf("--id %q: unknown kind %q; want auto, header:NAME, cookie:NAME or body:REGEX", s, kind)
}

// TokenKind says what pins a session to its backend.
type TokenKind string

const (
	// TokenAuto learns the cookie the load balancer sets on the run's first
	// responses.
	TokenAuto   TokenKind = "auto"
	TokenCookie TokenKind = "cookie"
	// TokenSource is source-address persistence (balance source, stick on src).
	TokenSource TokenKind = "source"
	// TokenNone means nothing pins: the probe expects spread, not stickiness.
	TokenNone TokenKind = "none"
)

// Token is a parsed --token value.
type Token struct {
	Kind TokenKind
	Name string // cookie name for TokenCookie
}

func (t Token) String() string {
	if t.Kind == TokenCookie {
		return "cookie:" + t.Name
	}
	return string(t.Kind)
}

// ParseToken parses auto, cookie:NAME, source or none.
func ParseToken(s string) (Token, error) {
	switch TokenKind(s) {
	case "", TokenAuto:
		return Token{Kind: TokenAuto}, nil
	case TokenSource, TokenNone:
		return Token{Kind: TokenKind(s)}, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	if ok && TokenKind(kind) == TokenCookie {
		if !validToken(name) {
			return Token{}, fmt.Errorf("--token %q: %q is not a valid cookie name", s, name)
		}
		return Token{Kind: TokenCookie, Name: name}, nil
	}
	return Token{}, fmt.Errorf("--token %q: want auto, cookie:NAME, source or none", s)
}

// Resolve sends connections for Host:Port to Addr, keeping the Host header
// and the TLS server name, like curl's --resolve.
type Resolve struct {
	Host string
	Port int
	Addr string // an IP address
}

func (r Resolve) String() string {
	addr := r.Addr
	if strings.Contains(addr, ":") {
		addr = "[" + addr + "]"
	}
	return r.Host + ":" + strconv.Itoa(r.Port) + ":" + addr
}

// ParseResolve parses HOST:PORT:ADDR; ADDR may be an IPv6 address, with or
// without brackets.
func ParseResolve(s string) (Resolve, error) {
	host, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Resolve{}, fmt.Errorf("--resolve %q: want HOST:PORT:ADDR", s)
	}
	portStr, addr, ok := strings.Cut(rest, ":")
	if !ok || host == "" || addr == "" {
		return Resolve{}, fmt.Errorf("--resolve %q: want HOST:PORT:ADDR", s)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return Resolve{}, fmt.Errorf("--resolve %q: bad port %q", s, portStr)
	}
	addr = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	ip := net.ParseIP(addr)
	if ip == nil {
		return Resolve{}, fmt.Errorf("--resolve %q: %q is not an IP address", s, addr)
	}
	return Resolve{Host: strings.ToLower(host), Port: port, Addr: ip.String()}, nil
}

// Header is one extra request header.
type Header struct {
	Name, Value string
}

// ParseHeader parses "Name: value" (the space is optional).
func ParseHeader(s string) (Header, error) {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || !validToken(name) {
		return Header{}, fmt.Errorf("--header %q: want NAME:VALUE with a valid header name", s)
	}
	value = strings.TrimSpace(value)
	for i := 0; i < len(value); i++ {
		// RFC 7230 field-value: no CTL but HTAB. net/http refuses to
		// send anything else, which would fail every request of a run.
		if c := value[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return Header{}, fmt.Errorf("--header %q: value contains a control character", s)
		}
	}
	return Header{Name: http.CanonicalHeaderKey(name), Value: value}, nil
}

// validToken reports whether s is an RFC 7230 token, the grammar of both
// header names and cookie names.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}
