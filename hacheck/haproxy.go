package hacheck

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/hacfg"
)

// haproxyCheckTimeout bounds one `haproxy -c`; it reads a file and exits.
const haproxyCheckTimeout = 15 * time.Second

// maxHAProxyFindings bounds what one file's `haproxy -c` adds.
const maxHAProxyFindings = 100

var (
	// [WARNING]  (123) : config : parsing [f.cfg:7] : message
	haproxyMsg = regexp.MustCompile(`^\[(WARNING|ALERT)\]\s+\(\d+\)\s*:\s*(?:config\s*:\s*)?(.*)$`)
	haproxyAt  = regexp.MustCompile(`^parsing \[(.+):(\d+)\]\s*:?\s*(.*)$`)
	// "backend 'be_x'", "proxy 'x'": a message about a section names it.
	haproxyProxy = regexp.MustCompile(`(?:backend|proxy|frontend|listen) '([^']+)'`)
)

// HAProxyCheck runs `bin -c -f FILE` (with `-L localPeer` when given: the
// name of this node in its peers sections, the host name by default) and
// turns its warnings and alerts into findings; messages without a line
// are placed at the section they name. An error means haproxy could not
// run at all.
func HAProxyCheck(ctx context.Context, bin string, cfg *hacfg.Config, localPeer string) (out []Finding, err error) {
	ctx, cancel := context.WithTimeout(ctx, haproxyCheckTimeout)
	defer cancel()
	args := []string{"-c", "-f", cfg.File}
	if localPeer != "" {
		args = append(args, "-L", localPeer)
	}
	text, runErr := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s -c -f %s: %w", bin, cfg.File, ctx.Err())
	}
	if _, isExit := runErr.(*exec.ExitError); runErr != nil && !isExit {
		return nil, fmt.Errorf("%s -c -f %s: %w", bin, cfg.File, runErr)
	}
	for _, line := range strings.Split(string(text), "\n") {
		f, ok := haproxyFinding(cfg, strings.TrimSpace(line))
		if ok && len(out) < maxHAProxyFindings {
			out = append(out, f)
		}
	}
	return out, nil
}

// haproxyNoise are alerts that only sum up the ones before them.
var haproxyNoise = []string{"Error(s) found in configuration file", "Fatal errors found in configuration"}

func haproxyFinding(cfg *hacfg.Config, line string) (Finding, bool) {
	m := haproxyMsg.FindStringSubmatch(line)
	if m == nil {
		return Finding{}, false
	}
	msg := m[2]
	for _, n := range haproxyNoise {
		if strings.Contains(msg, n) {
			return Finding{}, false
		}
	}
	f := Finding{ID: "haproxy-warning", Severity: SevWarning, File: cfg.File, Source: SourceHAProxy}
	if m[1] == "ALERT" {
		f.ID, f.Severity = "haproxy-alert", SevError
	}
	if at := haproxyAt.FindStringSubmatch(msg); at != nil {
		f.Line, _ = strconv.Atoi(at[2])
		msg = at[3]
		f.Section = sectionAt(cfg, f.Line)
	} else if p := haproxyProxy.FindStringSubmatch(msg); p != nil {
		for _, s := range cfg.Proxies() {
			if s.Name == p[1] {
				f.Line, f.Section = s.Header.Num, s.Kind+" "+s.Name
				break
			}
		}
	}
	if kind, name, ok := strings.Cut(f.Section, " "); ok && kind != "frontend" {
		f.Backend = name
	}
	f.Problem = strings.TrimSuffix(msg, ".")
	return f, true
}

// sectionAt names the section that holds line n.
func sectionAt(cfg *hacfg.Config, n int) string {
	name := ""
	for _, s := range cfg.Sections {
		if s.Header.Num <= n {
			name = strings.TrimSpace(s.Kind + " " + s.Name)
		}
	}
	return name
}
