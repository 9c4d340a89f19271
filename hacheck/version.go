package hacheck

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/hacfg"
)

var (
	versionLine = regexp.MustCompile(`(?m)^HAProxy version (\d+\.\d+(?:\.\d+)?)`)
	featureLine = regexp.MustCompile(`(?m)^Feature list :(.*)$`)
)

// haproxyBuild fills in the version and features `.if version_atleast()`
// and `.if feature()` are evaluated against, from `bin -vv`, so a config
// reads as this haproxy reads it. Values already set are kept; a haproxy
// that does not answer leaves the defaults.
func haproxyBuild(ctx context.Context, bin string, o *hacfg.Options) {
	if o.Version != "" && o.Features != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-vv").Output()
	if err != nil {
		return
	}
	if m := versionLine.FindSubmatch(out); m != nil && o.Version == "" {
		o.Version = string(m[1])
	}
	if m := featureLine.FindSubmatch(out); m != nil && o.Features == nil {
		o.Features = []string{}
		for _, f := range strings.Fields(string(m[1])) {
			if name, ok := strings.CutPrefix(f, "+"); ok {
				o.Features = append(o.Features, name)
			}
		}
	}
}
