package hacfg

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse: any input either parses or fails with an *Error naming this
// file and a line that exists; nothing panics, every directive sits in a
// section on an existing line, and lookups on every proxy terminate.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/production.cfg"); err == nil {
		f.Add(string(b))
	}
	f.Add("defaults d\n mode http\nbackend b from d\n cookie S insert\n server s 1:1 cookie a\n")
	f.Add("global\n.if defined(X) && (1 || !streq(\"${X-y}\",y))\n a \"${L[*]}\" 'q' \\x41#c\n.else\n.endif\n")
	f.Add("frontend f\n bind \"$P\"\r\n use_backend b if { path_beg /a }\n")
	f.Fuzz(func(t *testing.T, text string) {
		env := func(n string) (string, bool) {
			if n == "L" {
				return "x y z", true
			}
			return "", n == "X"
		}
		cfg, err := Parse("f.cfg", []byte(text), Options{Env: env})
		if err != nil {
			var pe *Error
			lines := strings.Count(text, "\n") + 1
			if !errors.As(err, &pe) || pe.File != "f.cfg" || pe.Line < 1 || pe.Line > lines {
				t.Fatalf("error %v (%T) does not name a line of f.cfg (%d lines)", err, err, lines)
			}
			return
		}
		for _, s := range cfg.Sections {
			for _, l := range s.Lines {
				if l.Num < s.Header.Num || len(l.Args) == 0 {
					t.Fatalf("line %+v before its section %+v", l, s.Header)
				}
			}
			if s.IsProxy() {
				s.Mode()
				s.Lookup("cookie")
				s.Option("redispatch")
			}
		}
	})
}
