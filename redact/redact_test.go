package redact

import (
	"net/url"
	"strings"
	"testing"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestValueIsStableAndKeyed(t *testing.T) {
	r := NewWithKey(testKey)
	a, b := r.Value("JSESSIONID-secret"), r.Value("JSESSIONID-secret")
	if a != b {
		t.Errorf("same secret, %q then %q: want equal", a, b)
	}
	if !IsRedacted(a) || strings.Contains(a, "secret") {
		t.Errorf("Value = %q, want redacted:<6 hex>", a)
	}
	if c := r.Value("another secret"); c == a {
		t.Errorf("two secrets hash alike: %q", c)
	}
	if other := NewWithKey([]byte("another key")).Value("JSESSIONID-secret"); other == a {
		t.Errorf("two keys give the same hash %q: the hash is not keyed", a)
	}
	if got := r.Value(""); got != "" {
		t.Errorf("empty value redacted to %q, want it kept (a deleted cookie is evidence)", got)
	}
	if got := r.Value(a); got != a {
		t.Errorf("redacting a redacted value gave %q, want it unchanged", got)
	}
	if New().Value("x") == New().Value("x") {
		t.Error("two runs share a key: New must draw a random key")
	}
}

func TestHeader(t *testing.T) {
	r := NewWithKey(testKey, "x-api-key")
	h := r.Value
	tests := []struct {
		name, header, value string
		keep                []string
		want                string
		hid                 []string
	}{
		{"authorization keeps its scheme", "Authorization", "Bearer tok-s3cr3t", nil, "Bearer " + h("tok-s3cr3t"), []string{"tok-s3cr3t"}},
		{"unknown scheme word is secret too", "authorization", "my secret phrase", nil, h("my secret phrase"), []string{"my secret phrase"}},
		{"proxy authorization", "Proxy-Authorization", "Basic dXNlcjpwYXNz", nil, "Basic " + h("dXNlcjpwYXNz"), []string{"dXNlcjpwYXNz"}},
		{"user-named header", "X-Api-Key", "key-s3cr3t", nil, h("key-s3cr3t"), []string{"key-s3cr3t"}},
		{"other header untouched", "X-Backend", "server1", nil, "server1", nil},
		{"cookie keeps the token", "Cookie", "SERVERID=s1; JSESSIONID=abc123def", []string{"SERVERID"}, "SERVERID=s1; JSESSIONID=" + h("abc123def"), []string{"JSESSIONID=abc123def", "abc123def"}},
		{"short cookie value hidden as a pair", "Cookie", "SERVERID=s1", nil, "SERVERID=" + h("s1"), []string{"SERVERID=s1"}},
		{"set-cookie keeps attributes", "Set-Cookie", "JSESSIONID=abc123def; Path=/; Domain=.example.org; Secure", []string{"SERVERID"},
			"JSESSIONID=" + h("abc123def") + "; Path=/; Domain=.example.org; Secure", []string{"JSESSIONID=abc123def", "abc123def"}},
		{"set-cookie of the token", "Set-Cookie", "SERVERID=s2; path=/", []string{"SERVERID"}, "SERVERID=s2; path=/", nil},
		{"deleting set-cookie", "Set-Cookie", "APP=; Expires=Thu, 01-Jan-1970 00:00:01 GMT", nil, "APP=; Expires=Thu, 01-Jan-1970 00:00:01 GMT", nil},
		{"quoted set-cookie value", "Set-Cookie", `APP="abc123def"; Path=/`, nil, "APP=" + h("abc123def") + "; Path=/", []string{"APP=abc123def", "abc123def"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, hid := r.Header(tt.header, tt.value, tt.keep...)
			if got != tt.want {
				t.Errorf("Header(%q, %q) = %q, want %q", tt.header, tt.value, got, tt.want)
			}
			var found []string
			for _, sec := range hid {
				found = append(found, sec.Find)
				if sec.Replace == sec.Find || !strings.Contains(sec.Replace, Prefix) {
					t.Errorf("secret %q would be replaced by %q", sec.Find, sec.Replace)
				}
			}
			if strings.Join(found, ",") != strings.Join(tt.hid, ",") {
				t.Errorf("hid %q, want %q", found, tt.hid)
			}
		})
	}
}

func TestScrubKeepsEchoesComparable(t *testing.T) {
	r := NewWithKey(testKey)
	r.AddSecret("Bearer tok-s3cr3t-XYZ")
	sent, _ := r.Header("Authorization", "Bearer tok-s3cr3t-XYZ")
	echo := r.Scrub("Bearer tok-s3cr3t-XYZ")
	if echo != sent || strings.Contains(echo, "s3cr3t") {
		t.Errorf("echoed credential scrubbed to %q, sent header recorded as %q: want equal and hidden", echo, sent)
	}
	_, hid := r.Header("Cookie", "lang=en; SID=abc123def")
	if got := r.Scrub("seen abc123def here", hid...); got != "seen "+r.Value("abc123def")+" here" {
		t.Errorf("Scrub of a session id = %q", got)
	}
	if got := r.Scrub("lang=en; hl=en", hid...); got != "lang="+r.Value("en")+"; hl=en" {
		t.Errorf("Scrub of a short cookie = %q, want only the pair lang=en hidden", got)
	}
}

func TestOffShowsEverything(t *testing.T) {
	for name, r := range map[string]*Redactor{"Off": Off(), "nil": nil} {
		if got, _ := r.Header("Authorization", "Bearer x"); got != "Bearer x" {
			t.Errorf("%s: Authorization = %q, want it in clear", name, got)
		}
		if got := r.Scrub("abc123def", Secret{"abc123def", "x"}); got != "abc123def" {
			t.Errorf("%s: Scrub = %q", name, got)
		}
		if r.Enabled() {
			t.Errorf("%s: Enabled", name)
		}
	}
}

func TestURLPassword(t *testing.T) {
	r := NewWithKey(testKey)
	u, _ := url.Parse("http://alice:hunter2hunter2@lb.example/x")
	got := r.URL(u)
	if strings.Contains(got, "hunter2") || !strings.Contains(got, "alice:") {
		t.Errorf("URL = %q, want the password redacted and the user kept", got)
	}
	plain, _ := url.Parse("http://lb.example/x")
	if r.URL(plain) != "http://lb.example/x" {
		t.Errorf("URL without user info changed: %q", r.URL(plain))
	}
}
