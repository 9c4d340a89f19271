package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/lab/labrun"
	"github.com/urfave/cli/v2"
)

func labCommand() *cli.Command {
	var names []string
	for _, lc := range labrun.Cases() {
		names = append(names, lc.Name)
	}
	return &cli.Command{
		Name:  "lab",
		Usage: "run the probe against real HAProxy, nginx, Caddy and Apache on 127.0.0.1 with good configs and classic mistakes",
		Description: "Starts three HTTP backends and, one after the other, a real haproxy, nginx, caddy or apache2\n" +
			"in front of them with each of these configs, probes it, and shows the verdicts side by side:\n\n   " +
			strings.Join(names, ", ") + "\n\n" +
			"Everything listens on 127.0.0.1 (and other 127.0.0.0/8 addresses as source addresses) and stops\n" +
			"when the command ends. Each config has a verdict it should get; the command exits 1 if one gets\n" +
			"another, so it doubles as a check that these load balancers behave as the probe expects. Needs\n" +
			"the binaries of the kinds it runs (Debian/Ubuntu: sudo apt-get install -y haproxy nginx caddy apache2).\n\n" +
			"Examples:\n" +
			"   stickyprobe lab                          all configs, side by side\n" +
			"   stickyprobe lab --lb nginx --lb caddy    only these load balancers\n" +
			"   stickyprobe lab --config no-server-cookie --details\n" +
			"   stickyprobe lab --serve apache-route-no-dot   keep one running and probe it yourself",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "config", Usage: "only these configs (repeatable; default all)"},
			&cli.StringSliceFlag{Name: "lb", Usage: "only configs of these load balancers: " + strings.Join(labrun.Kinds, ", ") + " (repeatable; default all)"},
			&cli.BoolFlag{Name: "details", Usage: "print the full report of every config"},
			&cli.BoolFlag{Name: "show-config", Usage: "print each generated config (haproxy.cfg, nginx.conf, Caddyfile, httpd.conf)"},
			&cli.StringFlag{Name: "serve", Usage: "start config `NAME`, print its URL and keep it running until Ctrl-C"},
			&cli.IntFlag{Name: "sessions", Value: 30, Usage: "sessions per config (at least 10: the spread check needs them)"},
			&cli.IntFlag{Name: "requests", Value: 6, Usage: "requests per session (at least 2)"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print every request"},
		},
		Action: labAction,
	}
}

func labAction(c *cli.Context) error {
	// Flags first: a typo costs nothing and says so (exit 2).
	if n := c.Int("sessions"); n < 10 || n > 10_000 {
		return fmt.Errorf("--sessions %d: want 10..10000", n)
	}
	if n := c.Int("requests"); n < 2 || n > 1000 {
		return fmt.Errorf("--requests %d: want 2..1000 (a session is judged by two responses or more)", n)
	}
	if name := c.String("serve"); name != "" {
		p, ok := lab.LBPresetByName(name)
		if !ok {
			return fmt.Errorf("--serve %q: unknown config; see `stickyprobe lab --help` for the list", name)
		}
		if _, err := lab.FindLB(p.Kind()); err != nil {
			return withCode(exitCannotRun, "%v", err)
		}
		return labExit(labrun.Serve(c.Context, p, c.App.Writer, labrun.ServeOptions{Config: withStatsSocket, Extra: printStatsSocket}))
	}
	cases, err := labrun.Select(c.StringSlice("config"), c.StringSlice("lb"))
	if err != nil {
		return err
	}
	if err := labrun.NeedLBs(cases); err != nil {
		return withCode(exitCannotRun, "%v", err)
	}
	return runLab(c, cases)
}

func runLab(c *cli.Context, cases []labrun.Case) error {
	res, err := labrun.Run(c.Context, c.App.Writer, cases, labrun.Options{
		Sessions: c.Int("sessions"), Requests: c.Int("requests"),
		Verbose: c.Bool("verbose"), Stderr: c.App.ErrWriter,
		ShowConfig: c.Bool("show-config"), Details: c.Bool("details"),
		Creator: "stickyprobe " + version, LB: lbAuto,
	})
	if err != nil {
		return labExit(err)
	}
	fmt.Fprint(c.App.Writer, labNextSteps)
	if c.Context.Err() != nil {
		return &exitError{code: exitInterrupted, err: errSilent}
	}
	if len(res.Unexpected) > 0 {
		return withCode(exitFail, "the lab's load balancers gave verdicts it should not (%s): see them with --details", strings.Join(res.Unexpected, "; "))
	}
	return nil
}

// labExit maps a lab that could not start to exit 3; other errors (the
// table not written) are returned as they are.
func labExit(err error) error {
	var cr *labrun.CannotRunError
	if errors.As(err, &cr) {
		return withCode(exitCannotRun, "%v", cr.Err)
	}
	return err
}

const labNextSteps = `
Next: point the probe at your own frontend, e.g.
   stickyprobe run https://your-lb.example/
   stickyprobe run --id header:X-Served-By --token cookie:SERVERID -v https://your-lb.example/
and see one config in full with: stickyprobe lab --config no-server-cookie --details --show-config
`
