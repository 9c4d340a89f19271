package hacheck

import (
	"fmt"
	"slices"
	"strings"

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
			out = append(out, compareHashServers(ref, b)...)
		}
	}
	return out
}

func compareCookies(ref, b *backendView) []Finding {
	if ref.httpCookie() == nil || b.httpCookie() == nil {
		return nil
	}
	var out []Finding
	if rc, bc := ref.httpCookie(), b.httpCookie(); rc.name != bc.name {
		f := b.finding("cookie-name-differs", SevError, bc.line)
		f.Cause = report.CauseFrontendChanged
		f.Problem = fmt.Sprintf("backend %s's cookie is %s here but %s at %s: a node never sees the other's cookie, so a user moving between them changes server",
			b.sec.Name, bc.name, rc.name, rc.line.Pos())
		f.Fix = "use the same cookie name on every node"
		out = append(out, f)
	}
	values := map[string]server{}
	for _, s := range ref.servers {
		values[s.name] = s
	}
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

// compareHashServers: a backend that pins by hashing alone sends a user
// to the same server on every node only if every node has the same
// servers in the same order with the same weights.
func compareHashServers(ref, b *backendView) []Finding {
	if !hashAlgos[b.balanceAlgo()] || b.cookie != nil || len(b.sticks) > 0 || ref.cookie != nil || len(ref.sticks) > 0 {
		return nil
	}
	rs, bs := hashKey(ref), hashKey(b)
	if rs == bs {
		return nil
	}
	at := b.sec.Header
	if len(b.servers) > 0 {
		at = b.servers[0].line
	}
	f := b.finding("hash-servers-differ", SevError, at)
	f.Cause = report.CauseFrontendChanged
	f.Problem = fmt.Sprintf("backend %s hashes (balance %s) over other servers here than at %s (%s here, %s there): the nodes send the same user to different servers",
		b.sec.Name, b.balanceAlgo(), ref.sec.Header.Pos(), bs, rs)
	f.Fix = "give every node the same server lines, in the same order, with the same weights (and `hash-type consistent`)"
	return []Finding{f}
}

// hashKey is what a hash over the servers depends on: the balance line
// and each server's name and weight, in order.
func hashKey(b *backendView) string {
	var parts []string
	for _, s := range b.servers {
		w := "1"
		if i := slices.Index(s.line.Args, "weight"); i > 0 && i+1 < len(s.line.Args) {
			w = s.line.Args[i+1]
		}
		if s.backup {
			w = "backup"
		}
		parts = append(parts, s.name+"/"+w)
	}
	return strings.Join(parts, ",")
}
