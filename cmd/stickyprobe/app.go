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
	parseMu.Lock()
	var once sync.Once
	parsed := func() { once.Do(parseMu.Unlock) }
	defer parsed()
	app := newApp(pipeline.StdoutGuard(stdout, stderr), stderr)
	whenParsed(app.Commands, parsed)
	err := app.RunContext(ctx, args)
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

// parseMu serializes urfave/cli's flag parsing, which writes its
// package-level help flag: a process runs one app, but tests run several
// at once. It is held from the start of run until the command's own flags
// are parsed, not while the command runs.
var parseMu sync.Mutex

// whenParsed calls parsed before every leaf command's action, once its
// flags are parsed.
func whenParsed(cmds []*cli.Command, parsed func()) {
	for _, c := range cmds {
		if len(c.Subcommands) > 0 {
			whenParsed(c.Subcommands, parsed)
			continue
		}
		before := c.Before
		c.Before = func(ctx *cli.Context) error {
			parsed()
			if before != nil {
				return before(ctx)
			}
			return nil
		}
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
