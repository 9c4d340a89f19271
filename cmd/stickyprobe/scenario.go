package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

// stateFlags are the flags of a run that span processes or feed CI: they
// apply to `run` and `scenario run` alike.
func stateFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "save-state", Category: catOutput, Usage: "write the sessions (cookie jars, pins, tokens) to `FILE` at the end, so a later --resume continues them. " +
			"The file holds every cookie the sessions were given, application session cookies included (they are needed to resume): it is written with mode 0600; keep it private"},
		&cli.StringFlag{Name: "resume", Category: catLoad, Usage: "continue the sessions saved by --save-state in `FILE`: same users, cookies and pins, so a switch since then " +
			"is caught (cause after-action). URLs, --sessions, --control, --id and --token default to the saved ones"},
	}
}

func scenarioCommand() *cli.Command {
	return &cli.Command{
		Name:  "scenario",
		Usage: "run a whole probe set-up from a YAML file or the built-in library (restart smoke tests, soak, ...)",
		Description: "A scenario says everything `run` flags say, plus phases: requests, exec (a command such as a\n" +
			"restart), wait, and pause (wait for Enter). Sessions keep their cookies and pins across phases,\n" +
			"so a session pinned before a restart is judged by where it lands after it (cause after-action).\n\n" +
			"Examples:\n" +
			"   stickyprobe scenario list\n" +
			"   stickyprobe scenario show restart-smoke > my-restart.yaml\n" +
			"   stickyprobe scenario run restart-smoke https://shop.example/\n" +
			"   stickyprobe scenario run --exec 'restart=ssh lb1 sudo systemctl restart haproxy' restart-smoke https://shop.example/\n" +
			"   stickyprobe scenario run --junit restart.xml ./my-restart.yaml\n\n" +
			"Flags go before the scenario's name.",
		Subcommands: []*cli.Command{
			scenarioListCommand(),
			scenarioShowCommand(),
			{
				Name:      "run",
				Usage:     "run a built-in scenario or a scenario file; flags and URLs given here override the file",
				ArgsUsage: "[flags] NAME|FILE [URL...]",
				Description: "NAME is a built-in (see `scenario list`); anything with a / or a .yaml/.yml suffix is a file.\n" +
					"URLs replace the scenario's target; a flag given here replaces the file's value (flags not\n" +
					"given leave it alone, whatever default --help shows). Phases that set their own requests or\n" +
					"think time keep them. --exec NAME=COMMAND replaces the command of exec phase NAME.\n\n" +
					exitCodesHelp,
				Flags: append(runFlags(),
					&cli.StringSliceFlag{Name: "exec", Category: catLoad, Usage: "`PHASE=COMMAND`: run COMMAND in exec phase PHASE instead of the file's (repeatable)"}),
				UseShortOptionHandling: true, // -vv
				Action:                 scenarioRunAction,
			},
		},
	}
}

// scenarioRunAction is `scenario run NAME|FILE [URL...]`.
func scenarioRunAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return fmt.Errorf("scenario run: give a built-in scenario name or a file (see `stickyprobe scenario list`)")
	}
	for _, a := range c.Args().Slice() {
		if strings.HasPrefix(a, "-") {
			return fmt.Errorf("scenario run: %q after the scenario's name: flags go first, as in `stickyprobe scenario run --sessions 20 restart-smoke URL`", a)
		}
	}
	f, err := loadScenario(c.Context, c.Args().First())
	if err != nil {
		return err
	}
	return probeAction(c, f, c.Args().Slice()[1:])
}

// loadScenario finds a built-in by name, or reads a file: anything that
// looks like a path is one, so a file called like a built-in needs ./.
func loadScenario(ctx context.Context, arg string) (*scenarios.File, error) {
	if strings.ContainsAny(arg, `/\`) || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") {
		return readInput(ctx, func() (*scenarios.File, error) { return scenarios.Load(arg) })
	}
	f, _, err := scenarios.LookupBuiltin(arg)
	return f, err
}

// overrideExec applies --exec PHASE=COMMAND.
func overrideExec(spec *scenarios.Spec, overrides []string) error {
	for _, o := range overrides {
		name, command, ok := strings.Cut(o, "=")
		if !ok || name == "" || strings.TrimSpace(command) == "" {
			return fmt.Errorf("--exec %q: want PHASE=COMMAND", o)
		}
		found := false
		var names []string
		for i := range spec.Phases {
			p := &spec.Phases[i]
			if p.Kind != scenarios.PhaseExec {
				continue
			}
			names = append(names, p.Name)
			if p.Name == name {
				p.Command, found = command, true
			}
		}
		if !found {
			return fmt.Errorf("--exec %q: the scenario has no exec phase %q (its exec phases: %s)", o, name, pipeline.OrDash(strings.Join(names, ", ")))
		}
	}
	return nil
}

func scenarioListCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the built-in scenarios",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("scenario list takes no argument (to see one: `stickyprobe scenario show %s`)", c.Args().First())
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 3, ' ', 0)
			for _, b := range scenarios.Builtins() {
				fmt.Fprintf(tw, "%s\t%s\n", b.Name, b.Description)
			}
			fmt.Fprintln(tw, "\nstickyprobe scenario show NAME prints one as YAML, to copy and edit.")
			return tw.Flush()
		},
	}
}

func scenarioShowCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print a built-in scenario's YAML, comments included",
		ArgsUsage: "NAME",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("scenario show: give one built-in name (see `stickyprobe scenario list`)")
			}
			_, src, err := scenarios.LookupBuiltin(c.Args().First())
			if err != nil {
				return err
			}
			_, err = c.App.Writer.Write(src)
			return err
		},
	}
}
