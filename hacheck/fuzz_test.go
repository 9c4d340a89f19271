package hacheck

import (
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/hacfg"
)

// FuzzCheck: on any config that parses, the checks, the routing and the
// lab pointer terminate without panicking, and every finding names a line
// of the file, an id, a severity and a problem.
func FuzzCheck(f *testing.F) {
	for _, p := range []string{"testdata/shop.cfg", "../hacfg/testdata/production.cfg"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b), "http://api.shop.example/")
		}
	}
	f.Add(head+"backend be\n cookie S insert dynamic maxidle 1s attr \"SameSite=None\"\n stick-table type string len 4 size 1 expire 1\n stick on src table be\n server a 1:1 id 1 cookie\n", "https://x/")
	f.Add("frontend f\n bind :1-9,:443\n use_backend b if !{ hdr_dom(host) -m reg ( } or a || !b\n acl a path_dir -i /\nlisten b\n bind :80\n balance hdr(\n", "http://h:5/p?q")
	f.Fuzz(func(t *testing.T, text, rawURL string) {
		cfg, err := hacfg.Parse("f.cfg", []byte(text), hacfg.Options{Env: func(string) (string, bool) { return "", false }})
		if err != nil {
			return
		}
		u := mustURLOrNil(rawURL)
		lines := strings.Count(text, "\n") + 1
		for _, fd := range Check([]*hacfg.Config{cfg, cfg}, Options{URL: u, Think: time.Minute}) {
			if fd.File != "f.cfg" || fd.Line < 1 || fd.Line > lines || fd.EndLine > lines || fd.ID == "" || fd.Severity == "" || fd.Problem == "" {
				t.Fatalf("finding %+v", fd)
			}
		}
		if u != nil {
			ServedBy(cfg, u)
		}
		Pointer([]string{text}, u)
	})
}

func mustURLOrNil(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil
	}
	return u
}
