package main

import (
	"fmt"
	"os"

	"github.com/stickyprobe/stickyprobe/internal/atomicfile"
	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/urfave/cli/v2"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "rebuild a run's report from its events file(s), without touching the target",
		ArgsUsage: "EVENTS.jsonl...",
		Description: "Reads the events file a run wrote with --events and prints the report the run printed,\n" +
			"byte for byte, in any format: table (the default), json, markdown (to paste into a GitHub or\n" +
			"GitLab issue), junit (for CI) or har (the broken sessions' requests, for a browser's dev tools).\n\n" +
			"Several files merge into one report, as from probes run on several machines or as several\n" +
			"Kubernetes pods at once: session ids are namespaced per file (FILE:ID), frontends and backends\n" +
			"are kept, so the same backend seen from two places counts once.\n\n" +
			"The exit code is the verdict's, as for run.\n\n" +
			"Examples:\n" +
			"   stickyprobe report events.jsonl\n" +
			"   stickyprobe report --format markdown events.jsonl > ticket.md\n" +
			"   stickyprobe report --format har --output broken.har events.jsonl\n" +
			"   stickyprobe report eu-west.jsonl us-east.jsonl ap-south.jsonl\n\n" +
			exitCodesHelp,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: pipeline.FormatNames()},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of stdout"},
			&cli.BoolFlag{Name: "har-all", Usage: "with --format har: every session, sticky and control ones too"},
		}, rejudgeFlags()...),
		Action: reportAction,
	}
}

// reportAction is `report EVENTS...`: the replayed report in one format
// of the registry, to stdout or a file written atomically.
func reportAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return fmt.Errorf("no events file: give the file(s) a run wrote with --events")
	}
	format, ok := pipeline.Lookup(c.String("format"))
	if !ok {
		return fmt.Errorf("--format %q: want %s", c.String("format"), pipeline.FormatNames())
	}
	if c.Bool("har-all") && format.Name != "har" {
		return fmt.Errorf("--har-all: only with --format har")
	}
	in, err := readInput(c.Context, func() (in pipeline.Input, err error) {
		rp, err := report.OpenReplay(c.Args().Slice()...)
		if err != nil {
			return in, err // a usage error: the input is not what report reads
		}
		in.Events = rp
		if err := rejudge(c, rp); err != nil {
			return in, err
		}
		in.Report, in.Summary, err = rp.Report()
		return in, err
	})
	if err != nil {
		return err
	}
	rp := in.Events.(*report.Replay)
	var out *atomicfile.File
	for _, w := range rp.Warnings() {
		fmt.Fprintf(c.App.ErrWriter, "stickyprobe: warning: %s\n", w)
	}
	in.HAR = rp.HAROptions(c.Bool("har-all"))
	if path := c.String("output"); path != "" && path != "-" {
		mode := os.FileMode(0o644)
		if !in.HAR.Redacted {
			mode = 0o600 // events written with --show-secrets: so is this
		}
		if out, err = atomicfile.Create(path, "--output "+path, mode); err != nil {
			return fmt.Errorf("--output %s: %w", path, err)
		}
		defer out.Abort()
		err = format.Render(out, in)
		if err == nil {
			err = out.Commit()
		}
	} else {
		err = format.Render(c.App.Writer, in)
	}
	if err != nil {
		return withCode(exitCannotRun, "%v", err)
	}
	if code := verdictCode(in.Report.Verdict); code != exitPass {
		return &exitError{code: code, err: errSilent}
	}
	return nil
}
