package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/stickyprobe/stickyprobe/hacfg"
	"github.com/stickyprobe/stickyprobe/hacheck"
	"github.com/urfave/cli/v2"
)

const checkConfigExitCodes = `EXIT CODES:
   0    no finding of severity warning or error (info findings may be listed)
   1    at least one warning or error
   2    a file cannot be read or parsed (the message names file:line), or a bad flag`

func checkConfigCommand() *cli.Command {
	return &cli.Command{
		Name:      "check-config",
		Usage:     "read HAProxy configs and point at the lines that break session persistence",
		ArgsUsage: "FILE...",
		Description: "Reads one or more haproxy.cfg files (several files = several LB nodes of one service) and\n" +
			"reports every persistence problem with file:line, the backend and servers it concerns, the\n" +
			"cause a probe run will show (no-token, token-refused, ..., as `run` names them) and the fix.\n" +
			"Where haproxy is installed it also runs `haproxy -c -f FILE` and lists HAProxy's own warnings\n" +
			"and alerts beside the findings.\n\n" +
			"Examples:\n" +
			"   stickyprobe check-config /etc/haproxy/haproxy.cfg\n" +
			"   stickyprobe check-config --url https://shop.example/ lb1/haproxy.cfg lb2/haproxy.cfg\n" +
			"   stickyprobe check-config --ignore no-persistence@be_static --json - haproxy.cfg\n\n" +
			checkConfigExitCodes,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "url", Usage: "the `URL` users open: checks the cookie's domain against its host"},
			&cli.DurationFlag{Name: "think", Usage: "the longest pause (`DURATION`) between two requests of a user: maxidle, maxlife and a stick table's expire must outlast it"},
			&cli.IntFlag{Name: "sessions", Value: 1000, Usage: "`N` users at once a stick table must hold"},
			&cli.IntFlag{Name: "token-len", Value: 32, Usage: "`LENGTH` of the session ids a string stick table stores"},
			&cli.StringSliceFlag{Name: "ignore", Usage: "silence finding `ID` (or ID@BACKEND; repeatable)"},
			&cli.StringFlag{Name: "json", Usage: "write the findings as JSON (schema " + hacheck.Schema + ") to `FILE` (- for stdout)"},
			&cli.BoolFlag{Name: "no-haproxy", Usage: "do not run haproxy -c"},
			&cli.StringFlag{Name: "local-peer", Usage: "with peers sections: this node's peer `NAME`, as haproxy -L (default: the host name)"},
		},
		Action: checkConfigAction,
	}
}

func checkConfigAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return errors.New("no config: give at least one haproxy.cfg, e.g. `stickyprobe check-config /etc/haproxy/haproxy.cfg`")
	}
	opts, err := checkConfigOptions(c)
	if err != nil {
		return err
	}
	res, _, err := hacheck.CheckFiles(c.Context, c.Args().Slice(), opts)
	var pe *hacfg.Error
	switch {
	case errors.As(err, &pe):
		return withCode(exitUsage, "%v", pe)
	case err != nil:
		return withCode(exitUsage, "%v", err)
	}
	if err := writeCheckConfig(c, res); err != nil {
		return withCode(exitUsage, "%v", err)
	}
	if res.Worst.Failing() {
		return &exitError{code: exitFail, err: errSilent}
	}
	return nil
}

func checkConfigOptions(c *cli.Context) (hacheck.FileOptions, error) {
	o := hacheck.FileOptions{Ignore: c.StringSlice("ignore"), LocalPeer: c.String("local-peer")}
	if raw := c.String("url"); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			return o, fmt.Errorf("--url %q: want an absolute URL such as https://shop.example/", raw)
		}
		o.URL = u
	}
	if o.Think = c.Duration("think"); o.Think < 0 {
		return o, fmt.Errorf("--think %v: want 0 or more", o.Think)
	}
	if o.Sessions = c.Int("sessions"); o.Sessions < 1 {
		return o, fmt.Errorf("--sessions %d: want 1 or more", o.Sessions)
	}
	if o.TokenLen = c.Int("token-len"); o.TokenLen < 1 || o.TokenLen > 4096 {
		return o, fmt.Errorf("--token-len %d: want 1..4096", o.TokenLen)
	}
	if c.Bool("no-haproxy") {
		o.HAProxy = hacheck.NoHAProxy
	}
	return o, nil
}

// writeCheckConfig prints the table, and the JSON where --json says;
// with --json - the table goes to stderr.
func writeCheckConfig(c *cli.Context, res *hacheck.Result) error {
	tableTo := c.App.Writer
	switch path := c.String("json"); path {
	case "":
	case "-":
		tableTo = c.App.ErrWriter
		if err := hacheck.JSON(c.App.Writer, res); err != nil {
			return err
		}
	default:
		if err := writeFindings(path, res); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	return hacheck.Table(tableTo, res)
}

// writeFindings writes the JSON to path (created or truncated, 0644: the
// findings hold no secret, dynamic-cookie-key values are never printed).
func writeFindings(path string, res *hacheck.Result) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := hacheck.JSON(f, res); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
