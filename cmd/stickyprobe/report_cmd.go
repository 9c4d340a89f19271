package main

import (
	"fmt"
	"io"

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
			"   stickyprobe report eu-west.jsonl us-east.jsonl ap-south.jsonl\n" +
			"   stickyprobe report --on-backend-loss strict events.jsonl   judge again: what if strict?\n\n" +
			exitCodesHelp,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table, json, markdown, junit or har"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of stdout"},
			&cli.BoolFlag{Name: "har-all", Usage: "with --format har: every session, sticky and control ones too"},
		}, rejudgeFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return fmt.Errorf("no events file: give the file(s) a run wrote with --events")
			}
			format := c.String("format")
			switch format {
			case "table", "json", "markdown", "md", "junit", "har":
			default:
				return fmt.Errorf("--format %q: want table, json, markdown, junit or har", format)
			}
			if c.Bool("har-all") && format != "har" {
				return fmt.Errorf("--har-all: only with --format har")
			}
			rp, err := report.OpenReplay(c.Args().Slice()...)
			if err != nil {
				return err // a usage error: the input is not what report reads
			}
			if err := rejudge(c, rp); err != nil {
				return err
			}
			rep, summary, err := rp.Report()
			if err != nil {
				return err
			}
			for _, w := range rp.Warnings() {
				fmt.Fprintf(c.App.ErrWriter, "stickyprobe: warning: %s\n", w)
			}
			render := func(w io.Writer) error {
				switch format {
				case "json":
					return report.JSON(w, rep)
				case "markdown", "md":
					return report.Markdown(w, rep)
				case "junit":
					return report.JUnit(w, rep)
				case "har":
					return report.HAR(w, summary, rp, rp.HAROptions(c.Bool("har-all")))
				}
				return report.Table(w, rep)
			}
			if path := c.String("output"); path != "" && path != "-" {
				err = writeFile(path, !rp.HAROptions(false).Redacted, render) // events written with --show-secrets: so is this
			} else {
				err = render(c.App.Writer)
			}
			if err != nil {
				return withCode(exitCannotRun, "%v", err)
			}
			if code := verdictCode(rep.Verdict); code != exitPass {
				return &exitError{code: code, err: errSilent}
			}
			return nil
		},
	}
}
