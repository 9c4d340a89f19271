package redact

import (
	"strings"
	"testing"
)

// FuzzHeader: redaction never panics, is idempotent (a recorded value
// redacted again does not change, so a replay cannot alter it), keeps a
// Set-Cookie's attributes as they were, and hides the value of every
// cookie it does not keep.
func FuzzHeader(f *testing.F) {
	f.Add("Cookie", "SERVERID=s1; JSESSIONID=abc123def", "SERVERID")
	f.Add("Set-Cookie", "JSESSIONID=abc; Path=/; Domain=.example.org; Secure", "SERVERID")
	f.Add("Set-Cookie", `A="q"; Max-Age=0`, "")
	f.Add("Authorization", "Bearer tok-s3cr3t", "")
	f.Add("X-Api-Key", "k e y", "")
	f.Add("Cookie", "=;;a=;=b; c", "c")
	r := NewWithKey([]byte("fuzz"), "X-Api-Key")
	f.Fuzz(func(t *testing.T, name, value, keep string) {
		out, hid := r.Header(name, value, keep)
		if again, _ := r.Header(name, out, keep); again != out {
			t.Fatalf("Header(%q, %q) = %q, and again %q: not idempotent", name, value, out, again)
		}
		for _, s := range hid {
			if s.Find == "" || !strings.Contains(s.Replace, Prefix) {
				t.Fatalf("secret %+v", s)
			}
		}
		_ = r.Scrub(value, hid...)
		if got, _ := Off().Header(name, value, keep); got != value {
			t.Fatalf("Off changed %q to %q", value, got)
		}
		if strings.EqualFold(name, "Set-Cookie") {
			_, attrs, _ := strings.Cut(value, ";")
			_, outAttrs, _ := strings.Cut(out, ";")
			if attrs != outAttrs {
				t.Fatalf("Set-Cookie attributes %q became %q", attrs, outAttrs)
			}
			pair, _, _ := strings.Cut(value, ";")
			n, v, ok := strings.Cut(pair, "=")
			v = strings.Trim(strings.TrimSpace(v), `"`)
			if ok && strings.TrimSpace(n) != keep && v != "" && !IsRedacted(v) {
				outPair, _, _ := strings.Cut(out, ";")
				if _, ov, _ := strings.Cut(outPair, "="); !IsRedacted(ov) {
					t.Fatalf("Set-Cookie %q recorded as %q: value not redacted", value, out)
				}
			}
		}
	})
}
