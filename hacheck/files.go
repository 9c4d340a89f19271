package hacheck

import (
	"context"
	"fmt"

	"github.com/stickyprobe/stickyprobe/hacfg"
	"github.com/stickyprobe/stickyprobe/lab"
)

// FileOptions say how CheckFiles reads and checks files.
type FileOptions struct {
	Options
	Parse hacfg.Options
	// HAProxy is the binary for `haproxy -c`: "" finds it as the lab
	// does, NoHAProxy skips it.
	HAProxy   string
	LocalPeer string   // -L for haproxy -c; "" the host name, as haproxy does
	Ignore    []string // ids to silence (see Silence)
}

// NoHAProxy as FileOptions.HAProxy skips `haproxy -c`.
const NoHAProxy = "-"

// CheckFiles parses every file (one per LB node) as the haproxy found
// reads it (its version and features decide `.if` blocks), checks them
// together, adds `haproxy -c`'s messages and drops the silenced findings. An error
// is a file that cannot be read or parsed (*hacfg.Error).
func CheckFiles(ctx context.Context, paths []string, o FileOptions) (*Result, []*hacfg.Config, error) {
	res := &Result{Schema: Schema, Files: paths}
	bin := o.HAProxy
	switch {
	case bin == NoHAProxy:
		res.NoCheck = "--no-haproxy"
	case bin == "":
		var err error
		if bin, err = lab.FindHAProxy(); err != nil {
			res.NoCheck, bin = "haproxy not found", NoHAProxy
		}
	}
	if bin != NoHAProxy {
		haproxyBuild(ctx, bin, &o.Parse)
	}
	var cfgs []*hacfg.Config
	for _, p := range paths {
		cfg, err := hacfg.ParseFile(p, o.Parse)
		if err != nil {
			return nil, nil, err
		}
		cfgs = append(cfgs, cfg)
	}
	fs := Check(cfgs, o.Options)
	if bin != NoHAProxy {
		res.HAProxy = bin
		for _, cfg := range cfgs {
			hf, err := HAProxyCheck(ctx, bin, cfg, o.LocalPeer)
			if err != nil {
				return nil, nil, fmt.Errorf("haproxy -c: %w", err)
			}
			fs = append(fs, hf...)
		}
	}
	Sort(fs)
	res.Findings, res.Silenced = Silence(fs, o.Ignore)
	res.Worst = Worst(res.Findings)
	return res, cfgs, nil
}
