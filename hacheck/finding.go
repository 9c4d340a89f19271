package hacheck

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/hacfg"
	"github.com/stickyprobe/stickyprobe/report"
)

// Severity ranks findings. Errors and warnings make check-config fail;
// info findings say what a probe run should expect.
type Severity string

const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
	SevInfo    Severity = "info"
)

func (s Severity) rank() int {
	switch s {
	case SevError:
		return 0
	case SevWarning:
		return 1
	}
	return 2
}

// Failing reports whether a finding of this severity fails the check.
func (s Severity) Failing() bool { return s == SevError || s == SevWarning }

// Finding is one problem at one place.
type Finding struct {
	ID       string       `json:"id"`
	Severity Severity     `json:"severity"`
	File     string       `json:"file"`
	Line     int          `json:"line,omitempty"`
	EndLine  int          `json:"end_line,omitempty"` // the last line of a range, e.g. the last server line
	Section  string       `json:"section,omitempty"`  // "backend be_api", "frontend fe_main"
	Backend  string       `json:"backend,omitempty"`
	Servers  []string     `json:"servers,omitempty"`
	Cause    report.Cause `json:"cause,omitempty"` // what a probe run shows
	Problem  string       `json:"problem"`
	Fix      string       `json:"fix,omitempty"`
	Source   string       `json:"source"` // "stickyprobe" or "haproxy -c"
}

// Sources of findings.
const (
	SourceOurs    = "stickyprobe"
	SourceHAProxy = "haproxy -c"
)

// Pos is "file:line" or "file:first-last".
func (f Finding) Pos() string {
	switch {
	case f.Line == 0:
		return f.File
	case f.EndLine > f.Line:
		return fmt.Sprintf("%s:%d-%d", f.File, f.Line, f.EndLine)
	}
	return fmt.Sprintf("%s:%d", f.File, f.Line)
}

// Options are what the checks know about the traffic.
type Options struct {
	// URL is the address users open, for the cookie domain and routing;
	// nil skips those checks.
	URL *url.URL
	// Host is the Host header the probe sends, when not URL's (a
	// --header Host:); it decides hdr(host) ACLs and the cookie domain.
	Host string
	// Think is the pause between two requests of a user: maxidle,
	// maxlife and a table's expire shorter than it drop the session.
	Think time.Duration
	// Sessions is how many users the stick tables must hold at once
	// (0: 1000).
	Sessions int
	// TokenLen is the length of the values a string stick table stores
	// (0: 32, the length of a JSESSIONID and of a 128-bit hex token).
	TokenLen int
}

func (o Options) sessions() int {
	if o.Sessions > 0 {
		return o.Sessions
	}
	return 1000
}

func (o Options) tokenLen() int {
	if o.TokenLen > 0 {
		return o.TokenLen
	}
	return 32
}

// Check runs every check over the configs, one per LB node, and returns
// the findings sorted by file and line.
func Check(cfgs []*hacfg.Config, opts Options) []Finding {
	var out []Finding
	for _, cfg := range cfgs {
		for _, be := range cfg.Proxies() {
			if be.Kind == "frontend" {
				continue
			}
			b := newBackendView(cfg, be, len(cfgs))
			for _, check := range backendChecks {
				out = append(out, check(b, opts)...)
			}
		}
	}
	out = append(out, acrossNodes(cfgs)...)
	Sort(out)
	return out
}

// Sort orders findings by file, line, then id.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.ID, b.ID))
	})
}

// Silence drops the findings an ignore entry names: an id ("nocache-missing")
// silences it everywhere, id@backend ("nocache-missing@be_static") in one
// backend. It returns what is left and how many were dropped.
func Silence(fs []Finding, ignore []string) (kept []Finding, dropped int) {
	for _, f := range fs {
		if silenced(f, ignore) {
			dropped++
			continue
		}
		kept = append(kept, f)
	}
	return kept, dropped
}

func silenced(f Finding, ignore []string) bool {
	for _, ig := range ignore {
		id, be, scoped := strings.Cut(ig, "@")
		if id == f.ID && (!scoped || be == f.Backend) {
			return true
		}
	}
	return false
}

// Worst is the highest severity among fs, "" for none.
func Worst(fs []Finding) Severity {
	var w Severity
	for _, f := range fs {
		if w == "" || f.Severity.rank() < w.rank() {
			w = f.Severity
		}
	}
	return w
}
