package hacheck

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stickyprobe/stickyprobe/hacfg"
)

// route is one way users reach a backend: a frontend (or the listen
// section itself) and the rule that sends them.
type route struct {
	frontend *hacfg.Section
	rule     hacfg.Line   // use_backend or default_backend; the header for a listen section
	cond     []string     // the words after if/unless, nil for an unconditional rule
	acls     []hacfg.Line // the acl lines the condition names
	binds    []hacfg.Line
}

// tls reports whether a bind of the route's frontend terminates TLS.
func (r route) tls() bool {
	for _, b := range r.binds {
		if slices.Contains(b.Args, "ssl") {
			return true
		}
	}
	return false
}

// String is "frontend fe_https (cfg:45 use_backend be_api if host_api; acl host_api at cfg:43)".
func (r route) String() string {
	s := r.frontend.Kind + " " + r.frontend.Name
	if r.rule.Keyword() == "use_backend" || r.rule.Keyword() == "default_backend" {
		s += fmt.Sprintf(" (%s `%s`", r.rule.Pos(), strings.Join(r.rule.Args, " "))
		for _, a := range r.acls {
			s += fmt.Sprintf("; acl %s at %s", a.Args[1], a.Pos())
		}
		s += ")"
	}
	return s
}

// routesTo finds every frontend and listen section that sends users to
// backend be.
func routesTo(cfg *hacfg.Config, be *hacfg.Section) []route {
	var out []route
	for _, fe := range cfg.Proxies() {
		if fe.Kind == "backend" {
			continue
		}
		binds := fe.All("bind")
		if fe == be && len(binds) > 0 {
			out = append(out, route{frontend: fe, rule: fe.Header, binds: binds})
		}
		for _, l := range fe.Lines {
			if (l.Keyword() != "use_backend" && l.Keyword() != "default_backend") || len(l.Args) < 2 || l.Args[1] != be.Name {
				continue
			}
			r := route{frontend: fe, rule: l, binds: binds}
			if len(l.Args) > 3 && (l.Args[2] == "if" || l.Args[2] == "unless") {
				r.cond = l.Args[2:]
				r.acls = aclLines(fe, l.Args[3:])
			}
			out = append(out, r)
		}
	}
	return out
}

// aclLines are the acl lines of fe that the condition words name.
func aclLines(fe *hacfg.Section, cond []string) []hacfg.Line {
	var out []hacfg.Line
	for _, w := range cond {
		name := strings.TrimPrefix(w, "!")
		for _, a := range fe.All("acl") {
			if len(a.Args) > 1 && a.Args[1] == name {
				out = append(out, a)
			}
		}
	}
	return out
}
