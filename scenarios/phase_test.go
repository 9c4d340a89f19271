package scenarios

import (
	"strings"
	"testing"
	"time"
)

// Specs built in code (the command line, other tools) get the same phase
// checks as files, through Validate.
func TestValidatePhases(t *testing.T) {
	think := -time.Second
	tests := []struct {
		name   string
		phases []Phase
		want   string // "" = valid
	}{
		{"one requests phase", []Phase{{Name: "a", Kind: PhaseRequests}}, ""},
		{"restart smoke", []Phase{{Name: "a", Kind: PhaseRequests}, {Name: "r", Kind: PhaseExec, Command: "true"}, {Name: "b", Kind: PhaseRequests}}, ""},
		{"empty", []Phase{}, "phases: empty"},
		{"no requests", []Phase{{Name: "w", Kind: PhaseWait, Wait: time.Second}}, "no requests phase"},
		{"unnamed", []Phase{{Kind: PhaseRequests}}, "phases[0] (): name: empty"},
		{"duplicate", []Phase{{Name: "a", Kind: PhaseRequests}, {Name: "a", Kind: PhaseRequests}}, `name "a" is used by an earlier phase`},
		{"control char", []Phase{{Name: "a\x1b", Kind: PhaseRequests}}, "control or invalid character"},
		{"unknown kind", []Phase{{Name: "a", Kind: "sleep"}}, `unknown kind "sleep"`},
		{"count and duration", []Phase{{Name: "a", Kind: PhaseRequests, Requests: 1, Duration: time.Second}}, "both set"},
		{"too many requests", []Phase{{Name: "a", Kind: PhaseRequests, Requests: MaxRequests + 1}}, "requests 100001"},
		{"negative think", []Phase{{Name: "a", Kind: PhaseRequests, Think: &think}}, "think -1s"},
		{"bad path", []Phase{{Name: "a", Kind: PhaseRequests, Paths: []string{"x"}}}, `paths: "x"`},
		{"empty command", []Phase{{Name: "a", Kind: PhaseRequests}, {Name: "e", Kind: PhaseExec, Command: " "}}, "exec: empty command"},
		{"zero wait", []Phase{{Name: "a", Kind: PhaseRequests}, {Name: "w", Kind: PhaseWait}}, "wait 0s"},
		{"too long for the cap", []Phase{{Name: "a", Kind: PhaseRequests, Duration: 3 * time.Minute}}, "last 3m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec(t)
			s.Phases = tt.phases
			err := s.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestCheckPathAndWithPath(t *testing.T) {
	for _, ok := range []string{"/", "/cart", "/a/b?x=1&y=%20", "/%E2%82%AC"} {
		if err := CheckPath(ok); err != nil {
			t.Errorf("CheckPath(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "cart", "//evil.example/", "/a b", "/a#frag", "/a\n", "http://x/"} {
		if err := CheckPath(bad); err == nil {
			t.Errorf("CheckPath(%q) accepted", bad)
		}
	}
	base, _ := ParseURL("https://shop.example:8443/start?old=1")
	if got := WithPath(base, "/cart?item=2").String(); got != "https://shop.example:8443/cart?item=2" {
		t.Errorf("WithPath = %s", got)
	}
	if base.String() != "https://shop.example:8443/start?old=1" {
		t.Errorf("WithPath changed its base: %s", base)
	}
}
