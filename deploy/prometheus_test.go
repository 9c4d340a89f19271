package deploy

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// exported reads the golden list of what the code exports: metric name →
// label names.
func exported(t *testing.T) map[string][]string {
	t.Helper()
	data, err := os.ReadFile("../metrics/testdata/metric-names.golden")
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]string)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("golden line %q", line)
		}
		out[f[0]] = strings.Split(f[2], ",")
	}
	return out
}

var (
	metricRef = regexp.MustCompile(`stickyprobe_[a-z_]+`)
	matcher   = regexp.MustCompile(`([a-z_]+)\s*=~?\s*"([^"]*)"`)
	grouping  = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	// Label values the code emits for the labels with a fixed set.
	fixedValues = map[string][]string{
		"verdict": {"pass", "fail", "inconclusive", "error"},
		"cause":   {"no-token", "token-refused", "token-not-sent", "token-ignored", "token-reassigned", "after-error", "unexplained"},
		"result":  {"sticky", "broken", "unidentified"},
		"kind":    {"timeout", "refused", "reset", "eof", "dns", "tls", "protocol", "http-5xx", "local", "other", "request", "message", "unreadable"},
		// HAProxy's termination state, 3rd and 4th characters, and "other".
		"client_cookie": {"N", "I", "D", "V", "E", "O", "U", "-", "other"},
		"server_cookie": {"N", "I", "U", "P", "R", "D", "-", "other"},
	}
)

func TestAlertRules(t *testing.T) {
	data, err := os.ReadFile("prometheus/stickyprobe-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("rules file: %v", err)
	}
	metrics := exported(t)
	labels := map[string]bool{}
	for _, ls := range metrics {
		for _, l := range ls {
			labels[l] = true
		}
	}
	seen := map[string]bool{}
	n := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			n++
			name := r.Alert
			if name == "" || seen[name] {
				t.Errorf("group %s: rule %d has no name or a duplicate one (%q)", g.Name, n, name)
			}
			seen[name] = true
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") {
				t.Errorf("%s: unbalanced parentheses in %q", name, r.Expr)
			}
			refs := metricRef.FindAllString(r.Expr, -1)
			if len(refs) == 0 {
				t.Errorf("%s: expr names no stickyprobe metric: %q", name, r.Expr)
			}
			for _, ref := range refs {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(ref, "_bucket"), "_sum"), "_count")
				if metrics[ref] == nil && metrics[base] == nil {
					t.Errorf("%s: %s is not a metric stickyprobe exports (metrics/testdata/metric-names.golden)", name, ref)
				}
			}
			for _, m := range matcher.FindAllStringSubmatch(r.Expr, -1) {
				if !labels[m[1]] {
					t.Errorf("%s: label %s is on no stickyprobe metric", name, m[1])
				}
				if vals := fixedValues[m[1]]; vals != nil && !strings.Contains(m[0], "=~") && !slices.Contains(vals, m[2]) {
					t.Errorf("%s: %s=%q is a value stickyprobe never emits (%v)", name, m[1], m[2], vals)
				}
			}
			for _, g := range grouping.FindAllStringSubmatch(r.Expr, -1) {
				for _, l := range strings.Split(g[1], ",") {
					if l = strings.TrimSpace(l); l != "" && !labels[l] {
						t.Errorf("%s: groups by %s, a label no stickyprobe metric has", name, l)
					}
				}
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", name, r.For, err)
				}
			}
			if sev := r.Labels["severity"]; sev != "page" && sev != "ticket" {
				t.Errorf("%s: severity %q, want page or ticket", name, sev)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s: no summary annotation", name)
			}
		}
	}
	for _, want := range []string{"StickinessDegraded", "StickinessBrokenByCause", "StickyprobeStale", "StickyprobeAbsent", "StickyprobeBackendLost"} {
		if !seen[want] {
			t.Errorf("no %s rule", want)
		}
	}
}
