package hacheck

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/stickyprobe/stickyprobe/hacfg"
)

// Served says which backend of a config serves a URL, as far as the
// config decides it without traffic.
type Served struct {
	Frontend string     `json:"frontend,omitempty"`
	Backend  string     `json:"backend,omitempty"` // "" when undecided
	Rule     string     `json:"rule,omitempty"`    // "haproxy.cfg:45 use_backend be_api if host_api"
	Note     string     `json:"note,omitempty"`    // why it is undecided, or what was assumed
	rule     hacfg.Line // the deciding line
}

// ServedBy follows the URL's port to a frontend (or listen section), then
// its use_backend rules in order and its default_backend. A condition
// that needs more than the request line and Host header (the client
// address, TLS, other headers, a pattern file) leaves it undecided.
func ServedBy(cfg *hacfg.Config, u *url.URL) Served {
	return ServedByHost(cfg, u, u.Host)
}

// ServedByHost is ServedBy for requests to u that carry another Host
// header (--header Host:).
func ServedByHost(cfg *hacfg.Config, u *url.URL, host string) Served {
	fe, note := frontendFor(cfg, u)
	if fe == nil {
		return Served{Note: note}
	}
	req := probeRequest{host: host, path: u.EscapedPath(), query: u.RawQuery}
	if req.path == "" {
		req.path = "/"
	}
	s := Served{Frontend: fe.Name, Note: note}
	for _, l := range fe.Lines {
		if l.Keyword() != "use_backend" || len(l.Args) < 2 {
			continue
		}
		v := yes
		if len(l.Args) > 3 && (l.Args[2] == "if" || l.Args[2] == "unless") {
			v = evalCond(fe, l.Args[3:], req)
			if l.Args[2] == "unless" {
				v = v.not()
			}
		}
		switch {
		case v == unknown:
			s.Note = joinNote(s.Note, fmt.Sprintf("%s `%s` depends on more than the URL", l.Pos(), strings.Join(l.Args, " ")))
			return s
		case v == yes && strings.Contains(l.Args[1], "%["):
			s.Note = joinNote(s.Note, fmt.Sprintf("%s picks the backend at run time (%s)", l.Pos(), l.Args[1]))
			return s
		case v == yes:
			return s.decided(l.Args[1], l)
		}
	}
	if l, ok := fe.Lookup("default_backend"); ok && len(l.Args) > 1 {
		return s.decided(l.Args[1], l)
	}
	if fe.Kind == "listen" {
		return s.decided(fe.Name, fe.Header)
	}
	s.Note = joinNote(s.Note, "frontend "+fe.Name+" has no rule for this URL and no default_backend")
	return s
}

func (s Served) decided(backend string, l hacfg.Line) Served {
	s.Backend, s.rule = backend, l
	s.Rule = l.Pos() + " " + strings.Join(l.Args, " ")
	return s
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// frontendFor finds the frontend or listen section bound to the URL's
// port; with one proxy that binds at all, that one.
func frontendFor(cfg *hacfg.Config, u *url.URL) (*hacfg.Section, string) {
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443"}[u.Scheme]
		if port == "" {
			port = "80"
		}
	}
	want, _ := strconv.Atoi(port)
	var bound, matched []*hacfg.Section
	for _, p := range cfg.Proxies() {
		if p.Kind == "backend" || len(p.All("bind")) == 0 {
			continue
		}
		bound = append(bound, p)
		if bindsPort(p, want) {
			matched = append(matched, p)
		}
	}
	switch {
	case len(matched) == 1:
		return matched[0], ""
	case len(matched) > 1:
		return nil, fmt.Sprintf("%d frontends bind port %d (%s, %s, ...): which one serves the URL depends on the address", len(matched), want, matched[0].Name, matched[1].Name)
	case len(bound) == 1:
		return bound[0], fmt.Sprintf("no frontend binds port %d; assumed %s, the only one (a port mapped in front of HAProxy)", want, bound[0].Name)
	}
	return nil, fmt.Sprintf("no frontend binds port %d and %d others do", want, len(bound))
}

// bindsPort: does a bind line of p listen on port? Addresses are
// "[prefix@][addr]:port[-last]", several per bind separated by commas.
func bindsPort(p *hacfg.Section, port int) bool {
	for _, b := range p.All("bind") {
		if len(b.Args) < 2 {
			continue
		}
		for _, addr := range strings.Split(b.Args[1], ",") {
			if _, rest, ok := strings.Cut(addr, "@"); ok {
				addr = rest
			}
			_, ports, err := net.SplitHostPort(addr)
			if err != nil {
				continue
			}
			first, last, _ := strings.Cut(ports, "-")
			lo, err1 := strconv.Atoi(first)
			hi, err2 := strconv.Atoi(last)
			if last == "" {
				hi, err2 = lo, nil
			}
			if err1 == nil && err2 == nil && lo <= port && port <= hi {
				return true
			}
		}
	}
	return false
}
