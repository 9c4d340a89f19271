package main

import (
	"fmt"

	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/redact"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

const showSecretsWarning = "stickyprobe: WARNING: --show-secrets: cookie values, Authorization, Proxy-Authorization " +
	"and --redact-header values are written IN CLEAR to the events, HAR, reports and -vv output. " +
	"Do not attach these files to a ticket."

// traceOptions reads the flags that say how secrets are hidden, -vv, and
// the rerun command the report prints.
func traceOptions(c *cli.Context, spec scenarios.Spec, o *pipeline.Options) error {
	o.Headers = c.Count("verbose") >= 2
	o.Color = useColor(c.App.ErrWriter)
	names := c.StringSlice("redact-header")
	for _, n := range names {
		if _, err := scenarios.ParseHeader(n + ":x"); err != nil || n == "" {
			return fmt.Errorf("--redact-header %q: not a header name", n)
		}
	}
	if c.Bool("show-secrets") {
		o.Redactor = redact.Off()
		fmt.Fprintln(c.App.ErrWriter, showSecretsWarning)
	} else {
		o.Redactor = redact.New(names...)
	}
	// A secret the user gave on the command line is hidden wherever it
	// comes back, such as a backend echoing Authorization.
	for _, h := range spec.Headers {
		if o.Redactor.Sensitive(h.Name) {
			o.Redactor.AddSecret(h.Value)
		}
	}
	rd := o.Redactor
	o.Command = func(seed uint64) string { return rerunCommand(c, spec, seed, rd) }
	return nil
}
