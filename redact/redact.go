// Package redact hides secrets in what stickyprobe records (HAR files,
// events, reports, -v output) while keeping them comparable: a secret is
// replaced by "redacted:" and the first six hex digits of its keyed hash,
// so two occurrences of one secret still compare equal and a reader can
// tell that the same session cookie came back, without seeing it.
//
// The hash is HMAC-SHA256 under a key drawn at random for every run and
// never written anywhere. An unkeyed hash of a short secret (a password, a
// four-digit PIN in a cookie) could be confirmed by anyone who hashes
// guesses; with a secret key it cannot. The price: the same secret hashes
// differently in two runs, so only occurrences within one run (one events
// file, one HAR) compare equal.
//
// What is secret: every cookie value except the ones the probe's verdict
// rests on (the affinity token, and the identity cookie when --id names
// one), the Authorization and Proxy-Authorization headers, any header the
// user names, and the password of a URL. A value already known to be
// secret is also scrubbed from every other header where it reappears (a
// debug endpoint echoing the request's Authorization, say).
package redact

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
)

// Prefix starts every redacted value.
const Prefix = "redacted:"

// minScrub is the shortest secret scrubbed from other values: a cookie
// "lang=en" must not turn every "en" of a header into a hash.
const minScrub = 8

// defaultHeaders are always secret.
var defaultHeaders = []string{"Authorization", "Proxy-Authorization"}

// Redactor replaces secrets. The zero value is not usable; a nil
// *Redactor shows everything, like Off.
type Redactor struct {
	key     []byte
	off     bool
	headers map[string]bool // canonical names of headers whose value is secret
	secrets []string        // values known secret from the start (sensitive -H values)
}

// New returns a Redactor with a fresh random key. headers are extra header
// names whose values are secret (--redact-header); Authorization and
// Proxy-Authorization always are.
func New(headers ...string) *Redactor {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails on supported platforms
	return NewWithKey(key, headers...)
}

// NewWithKey is New with a given key, for tests that need stable output.
func NewWithKey(key []byte, headers ...string) *Redactor {
	r := &Redactor{key: append([]byte(nil), key...), headers: make(map[string]bool)}
	for _, h := range append(append([]string(nil), defaultHeaders...), headers...) {
		r.headers[http.CanonicalHeaderKey(strings.TrimSpace(h))] = true
	}
	return r
}

// Off returns a Redactor that redacts nothing (--show-secrets).
func Off() *Redactor { return &Redactor{off: true} }

// Enabled reports whether r hides anything.
func (r *Redactor) Enabled() bool { return r != nil && !r.off }

// Value returns the redacted form of v: "redacted:" and six hex digits of
// its keyed hash. An empty value stays empty: a deleted cookie is evidence,
// not a secret.
func (r *Redactor) Value(v string) string {
	if !r.Enabled() || v == "" || IsRedacted(v) {
		return v
	}
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(v))
	return Prefix + hex.EncodeToString(m.Sum(nil)[:3])
}

// IsRedacted reports whether v is already a redacted value.
func IsRedacted(v string) bool {
	if len(v) != len(Prefix)+6 || !strings.HasPrefix(v, Prefix) {
		return false
	}
	_, err := hex.DecodeString(v[len(Prefix):])
	return err == nil
}

// Sensitive reports whether a header's whole value is secret.
func (r *Redactor) Sensitive(name string) bool {
	return r.Enabled() && r.headers[http.CanonicalHeaderKey(name)]
}

// AddSecret registers a value that is secret wherever it appears, such
// as the value of an --header the user marked sensitive; Scrub then hides
// it in any other text.
// A credential's scheme ("Bearer") is not part of the secret, so an echo
// of the header reads "Bearer redacted:…" with the same hash.
func (r *Redactor) AddSecret(v string) {
	if v = credentialsOf(v); r.Enabled() && len(v) >= minScrub {
		r.secrets = append(r.secrets, v)
	}
}

// Secrets lists the values registered with AddSecret.
func (r *Redactor) Secrets() []string { return r.secrets }

// Secret is a value Header hid, for Scrub to hide wherever else it
// appears: Find is replaced by Replace.
type Secret struct{ Find, Replace string }

// Header returns the value of header name as it may be recorded, and the
// secrets it hid (to be scrubbed from the other headers of the same
// exchange). keep names the cookies whose values are evidence, not secrets.
func (r *Redactor) Header(name, value string, keep ...string) (string, []Secret) {
	if !r.Enabled() {
		return value, nil
	}
	switch http.CanonicalHeaderKey(name) {
	case "Cookie":
		if r.Sensitive(name) {
			break
		}
		return r.cookieHeader(value, keep)
	case "Set-Cookie":
		if r.Sensitive(name) {
			break
		}
		return r.setCookie(value, keep)
	}
	if !r.Sensitive(name) {
		return value, nil
	}
	cred := credentialsOf(value)
	return r.credentials(value), []Secret{{cred, r.Value(cred)}}
}

// cookieSecrets hides a cookie's value wherever it reappears: as the pair
// "name=value" (an echoed Cookie header), and alone when it is long enough
// not to be a word of something else.
func (r *Redactor) cookieSecrets(name, val string) []Secret {
	red := r.Value(val)
	out := []Secret{{name + "=" + val, name + "=" + red}}
	if len(val) >= minScrub {
		out = append(out, Secret{val, red})
	}
	return out
}

// credentials redacts a credential header but keeps its scheme ("Bearer",
// "Basic"), which tells a reader what kind of credential was sent.
func (r *Redactor) credentials(v string) string {
	scheme, rest, ok := strings.Cut(v, " ")
	if ok && rest != "" && isScheme(scheme) {
		return scheme + " " + r.Value(strings.TrimSpace(rest))
	}
	return r.Value(v)
}

func credentialsOf(v string) string {
	scheme, rest, ok := strings.Cut(v, " ")
	if ok && isScheme(scheme) {
		return strings.TrimSpace(rest)
	}
	return v
}

// schemes are the HTTP authentication schemes kept in clear. Only known
// ones: the first word of an arbitrary secret phrase is part of the secret.
var schemes = []string{"basic", "bearer", "digest", "negotiate", "ntlm", "token", "hoba", "mutual", "aws4-hmac-sha256"}

func isScheme(s string) bool {
	for _, k := range schemes {
		if strings.EqualFold(s, k) {
			return true
		}
	}
	return false
}

// cookieHeader redacts the values of a Cookie request header
// ("a=1; b=2"), keeping the names and the kept cookies' values.
func (r *Redactor) cookieHeader(v string, keep []string) (string, []Secret) {
	parts := strings.Split(v, ";")
	var hid []Secret
	for i, p := range parts {
		name, val, ok := strings.Cut(p, "=")
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		if !ok || isKept(name, keep) || val == "" || IsRedacted(val) {
			continue
		}
		hid = append(hid, r.cookieSecrets(name, val)...)
		parts[i] = p[:strings.Index(p, name)] + name + "=" + r.Value(val)
	}
	return strings.Join(parts, ";"), hid
}

// setCookie redacts the value of one Set-Cookie line, keeping the name
// and every attribute: Domain, Path, Secure and expiry are the evidence of
// why a jar refused a cookie.
func (r *Redactor) setCookie(v string, keep []string) (string, []Secret) {
	pair, attrs, hasAttrs := strings.Cut(v, ";")
	name, val, ok := strings.Cut(pair, "=")
	name, val = strings.TrimSpace(name), strings.TrimSpace(val)
	if !ok || isKept(name, keep) {
		return v, nil
	}
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
		val = val[1 : len(val)-1]
	}
	if val == "" || IsRedacted(val) {
		return v, nil
	}
	out := name + "=" + r.Value(val)
	if hasAttrs {
		out += ";" + attrs
	}
	return out, r.cookieSecrets(name, val)
}

func isKept(name string, keep []string) bool {
	for _, k := range keep {
		if k != "" && name == k {
			return true
		}
	}
	return false
}

// Scrub hides in s every value registered with AddSecret and every
// secret in extra (found by Header in the same exchange). Values shorter
// than eight bytes are only hidden as part of a "name=value" pair: alone
// they are too likely to be a word of something else.
func (r *Redactor) Scrub(s string, extra ...Secret) string {
	if !r.Enabled() || s == "" || IsRedacted(s) {
		return s
	}
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, r.Value(sec))
		}
	}
	for _, sec := range extra {
		if sec.Find != "" && strings.Contains(s, sec.Find) {
			s = strings.ReplaceAll(s, sec.Find, sec.Replace)
		}
	}
	return s
}

// URL returns u as text with the password of its user info, if any,
// redacted.
func (r *Redactor) URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	if !r.Enabled() || u.User == nil {
		return u.String()
	}
	pw, ok := u.User.Password()
	if !ok {
		return u.String()
	}
	c := *u
	c.User = url.UserPassword(u.User.Username(), r.Value(pw))
	return c.String()
}
