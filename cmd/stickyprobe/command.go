package main

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/stickyprobe/stickyprobe/redact"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

// rerunCommand is the command line that repeats this run, for the report:
// every flag the user set that shapes the run, the seed it actually used
// (random unless --seed was given), and the targets. Output flags are left
// out: rerunning the command from a report must not overwrite the events
// file the report was made from. Header values that are secrets are
// redacted the way the traces redact them, so the command is safe to paste
// into a ticket (and needs the real value put back to run).
func rerunCommand(c *cli.Context, spec scenarios.Spec, seed uint64, rd *redact.Redactor) string {
	args := []string{c.App.Name, c.Command.Name}
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if name == "seed" || !c.IsSet(name) {
			continue
		}
		if cf, ok := f.(cli.CategorizableFlag); ok && cf.GetCategory() == catOutput {
			continue
		}
		switch f.(type) {
		case *cli.StringSliceFlag:
			for _, v := range c.StringSlice(name) {
				if name == "header" {
					v = redactHeaderArg(v, spec, rd)
				}
				args = append(args, "--"+name, v)
			}
		case *cli.BoolFlag:
			if c.Bool(name) {
				args = append(args, "--"+name)
			} else {
				args = append(args, "--"+name+"=false")
			}
		case *cli.IntFlag:
			args = append(args, "--"+name, strconv.Itoa(c.Int(name)))
		case *cli.Int64Flag:
			args = append(args, "--"+name, strconv.FormatInt(c.Int64(name), 10))
		case *cli.Float64Flag:
			args = append(args, "--"+name, strconv.FormatFloat(c.Float64(name), 'g', -1, 64))
		case *cli.DurationFlag:
			args = append(args, "--"+name, c.Duration(name).String())
		default:
			args = append(args, "--"+name, c.String(name))
		}
	}
	// As --seed took it: a negative --seed is reported as its uint64 bits.
	args = append(args, "--seed", strconv.FormatInt(int64(seed), 10))
	for _, u := range spec.URLs {
		args = append(args, rd.URL(u))
	}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// redactHeaderArg redacts the value of a --header NAME:VALUE whose value
// is secret; a Cookie header keeps the affinity token, as traces do.
func redactHeaderArg(arg string, spec scenarios.Spec, rd *redact.Redactor) string {
	h, err := scenarios.ParseHeader(arg)
	if err != nil {
		return arg // it parsed when the run started; keep it as given
	}
	keep := ""
	if spec.Token.Kind == scenarios.TokenCookie {
		keep = spec.Token.Name
	}
	v, _ := rd.Header(http.CanonicalHeaderKey(h.Name), h.Value, keep)
	return h.Name + ": " + v
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+,-]+$`)

// shellQuote quotes an argument for a POSIX shell, with single quotes.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
