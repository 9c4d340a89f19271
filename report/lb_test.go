package report

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestDetectLB(t *testing.T) {
	hmac := strings.Repeat("3e", 32)
	for _, tc := range []struct {
		name string
		ev   LBEvidence
		want string
	}{
		{"haproxy cookie beats a backend's Server", LBEvidence{Server: "nginx", Response: true, Cookies: []*http.Cookie{{Name: "SERVERID", Value: "s1"}}}, "haproxy"},
		{"haproxy: no Server header", LBEvidence{Response: true}, "haproxy"},
		{"caddy cookie", LBEvidence{Server: "Caddy", Response: true, Cookies: []*http.Cookie{{Name: "lb", Value: hmac}}}, "caddy"},
		{"caddy cookie, renamed", LBEvidence{Server: "Caddy", Response: true, TokenName: "sticky", Cookies: []*http.Cookie{{Name: "sticky", Value: hmac}}}, "caddy"},
		{"caddy cookie from the report alone", LBEvidence{TokenName: "lb", Cookies: []*http.Cookie{{Name: "lb", Value: hmac}}}, "caddy"},
		{"apache route", LBEvidence{Response: true, Cookies: []*http.Cookie{{Name: "ROUTEID", Value: ".s2"}}}, "apache"},
		{"apache Server", LBEvidence{Server: "Apache/2.4.67 (Debian)", Response: true, Cookies: []*http.Cookie{{Name: "ROUTEID", Value: "s2"}}}, "apache"},
		{"nginx Server", LBEvidence{Server: "nginx/1.22.1", Response: true}, "nginx"},
		{"another token's shape does not count", LBEvidence{Server: "nginx", Response: true, TokenName: "APPSESSION", Cookies: []*http.Cookie{{Name: "SERVERID", Value: "s1"}}}, "nginx"},
		{"unknown Server", LBEvidence{Server: "gunicorn", Response: true}, "generic"},
		{"no response", LBEvidence{}, "generic"},
	} {
		got := DetectLB(tc.ev)
		if got.Kind != tc.want || !got.Detected || got.Why == "" {
			t.Errorf("%s: %+v, want %s with a reason", tc.name, got, tc.want)
		}
	}
}

// Every kind has its own words for every cause, and each names what to
// check in that load balancer.
func TestHintForEveryKind(t *testing.T) {
	own := map[string]string{"nginx": "nginx", "caddy": "Caddy", "apache": "Apache"}
	for _, kind := range LBKinds {
		for _, c := range Causes {
			h := c.HintFor(kind)
			if h == "" {
				t.Errorf("%s has no hint for %s", kind, c)
			}
			if kind == "haproxy" && h != c.Hint() {
				t.Errorf("haproxy hint for %s is not Hint()", c)
			}
			if kind == "generic" && strings.Contains(h, "HAProxy") {
				t.Errorf("generic hint for %s names HAProxy: %q", c, h)
			}
			if word, ok := own[kind]; ok && c != CauseTokenRefused && c != CauseTokenNotSent &&
				!strings.Contains(h, word) && !strings.Contains(h, "`") {
				t.Errorf("%s hint for %s names neither %s nor a directive: %q", kind, c, word, h)
			}
		}
	}
	if h := CauseNoToken.HintFor("unknown"); h != CauseNoToken.Hint() {
		t.Errorf("unknown kind: %q, want HAProxy's words", h)
	}
}

// SetLB swaps the hints' words, not the causes, and says why in the
// JSON, the table and the Markdown.
func TestSetLB(t *testing.T) {
	r := &Report{Schema: Schema, Verdict: Fail, Causes: map[Cause]int{CauseTokenIgnored: 3},
		Hints: map[Cause]string{CauseTokenIgnored: CauseTokenIgnored.Hint()}, Summary: Counts{Sessions: 3, Broken: 3}}
	r.SetLB(LB{Kind: "nginx", Detected: true, Why: "Server: nginx/1.22.1"})
	if r.Causes[CauseTokenIgnored] != 3 || !strings.Contains(r.Hints[CauseTokenIgnored], "hash $cookie_NAME consistent") {
		t.Fatalf("causes %v, hints %v", r.Causes, r.Hints)
	}
	var js bytes.Buffer
	if err := JSON(&js, r); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Run struct {
			LB LB `json:"lb"`
		} `json:"run"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Run.LB != *r.Run.LB {
		t.Fatalf("run.lb in JSON %+v (%v), want %+v", back.Run.LB, err, *r.Run.LB)
	}
	var table, md bytes.Buffer
	if err := Table(&table, r); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"table": table.String(), "markdown": md.String()} {
		if flat := strings.Join(strings.Fields(out), " "); !strings.Contains(flat, "hints for nginx, detected: Server: nginx/1.22.1") {
			t.Errorf("%s does not say whose hints and why:\n%s", name, out)
		}
	}
	r.SetLB(LB{Kind: "generic", Why: "--lb generic"})
	if strings.Contains(r.Hints[CauseTokenIgnored], "nginx") || r.Run.LB.Detected {
		t.Errorf("after --lb generic: %+v %q", r.Run.LB, r.Hints[CauseTokenIgnored])
	}
}
