package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run is main without os.Exit, so tests drive the real command line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(pipeline.StdoutGuard(stdout, stderr), stderr)
	parseMu.Lock()
	parsed := sync.OnceFunc(parseMu.Unlock)
	releaseAtAction(app.Commands, parsed)
	err := app.RunContext(ctx, args)
	parsed()
	code := exitCode(err)
	var ee *exitError
	if err != nil && !(errors.As(err, &ee) && ee.err == errSilent) {
		// "scenarios: invalid spec: " says which package refused; the
		// user needs only the flag and what is wrong with it.
		msg := strings.TrimPrefix(err.Error(), scenarios.ErrInvalid.Error()+": ")
		fmt.Fprintf(stderr, "stickyprobe: %s\n", msg)
	}
	return code
}

// parseMu serializes urfave/cli's parsing across runs in one process:
// its parser writes to the package-level help and version flags, which
// races when two apps parse at once (tests run commands in parallel). A
// run holds it from the start until its command's action begins, so the
// commands themselves, which may last minutes, run side by side.
var parseMu sync.Mutex

// releaseAtAction makes every command's action call parsed first.
func releaseAtAction(cmds []*cli.Command, parsed func()) {
	for _, c := range cmds {
		if action := c.Action; action != nil {
			c.Action = func(ctx *cli.Context) error {
				parsed()
				return action(ctx)
			}
		}
		releaseAtAction(c.Subcommands, parsed)
	}
}

// errSilent marks an exit whose story the report already told.
var errSilent = errors.New("")

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "stickyprobe",
		Usage:     "prove from the outside that a load balancer keeps each user on the same backend",
		Version:   version,
		Writer:    stdout,
		ErrWriter: stderr,
		Description: "stickyprobe plays many simulated users, each with its own cookie jar, against a load\n" +
			"balancer frontend, records which backend served every request and what happened to the\n" +
			"affinity cookie, and says which sessions broke and why.\n\n" +
			"Start with `stickyprobe lab` (a real HAProxy with good and broken configs on 127.0.0.1),\n" +
			"then point `stickyprobe run` at your own frontend.",
		Commands:        []*cli.Command{runCommand(), scenarioCommand(), monitorCommand(), reportCommand(), labCommand(), logsCommand(), checkConfigCommand()},
		HideHelpCommand: true,
		// Exit codes are ours to map (see exit.go); urfave/cli's own
		// handler would call os.Exit behind our back.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return fmt.Errorf("%w (see `%s --help`)", err, c.Command.HelpName)
		},
		CustomAppHelpTemplate: cli.AppHelpTemplate + "\n" + exitCodesHelp + "\n",
	}
}
