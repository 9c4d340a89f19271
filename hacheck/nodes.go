package hacheck

import (
	"fmt"

	"github.com/stickyprobe/stickyprobe/hacfg"
	"github.com/stickyprobe/stickyprobe/report"
)

// acrossNodes compares configs of several LB nodes of one service: the
// same backend must hand out the same cookie value for the same server.
func acrossNodes(cfgs []*hacfg.Config) []Finding {
	if len(cfgs) < 2 {
		return nil
	}
	var out []Finding
	first := map[string]*backendView{} // backend name → its view on the first node that has it
	for _, cfg := range cfgs {
		for _, sec := range cfg.Proxies() {
			if sec.Kind == "frontend" {
				continue
			}
			b := newBackendView(cfg, sec, len(cfgs))
			ref, seen := first[sec.Name]
			if !seen {
				first[sec.Name] = b
				continue
			}
			out = append(out, compareCookies(ref, b)...)
			out = append(out, compareDynamicKeys(ref, b)...)
		}
	}
	return out
}

func compareCookies(ref, b *backendView) []Finding {
	if ref.httpCookie() == nil || b.httpCookie() == nil {
		return nil
	}
	values := map[string]server{}
	for _, s := range ref.servers {
		values[s.name] = s
	}
	var out []Finding
	for _, s := range b.servers {
		r, ok := values[s.name]
		if !ok || r.cookie == s.cookie {
			continue
		}
		f := b.finding("cookie-value-differs", SevError, s.line)
		f.Servers = []string{s.name}
		f.Cause = report.CauseFrontendChanged
		f.Problem = fmt.Sprintf("server %s of backend %s has cookie %q here but %q at %s: a user moving between these LB nodes is not recognised and changes server",
			s.name, b.sec.Name, s.cookie, r.cookie, r.line.Pos())
		f.Fix = "give each server the same `cookie <value>` on every node"
		out = append(out, f)
	}
	return out
}

func compareDynamicKeys(ref, b *backendView) []Finding {
	rc, bc := ref.httpCookie(), b.httpCookie()
	if rc == nil || bc == nil || !rc.dynamic || !bc.dynamic {
		return nil
	}
	rk, rok := ref.sec.Lookup("dynamic-cookie-key")
	bk, bok := b.sec.Lookup("dynamic-cookie-key")
	if !rok || !bok || len(rk.Args) < 2 || len(bk.Args) < 2 || rk.Args[1] == bk.Args[1] {
		return nil
	}
	f := b.finding("dynamic-key-differs", SevError, bk)
	f.Cause = report.CauseFrontendChanged
	f.Problem = fmt.Sprintf("backend %s's dynamic-cookie-key differs from the one at %s: the nodes make different cookie values for the same server", b.sec.Name, rk.Pos())
	f.Fix = "use the same `dynamic-cookie-key` on every node"
	return []Finding{f}
}
