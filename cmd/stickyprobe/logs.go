package main

import (
	"fmt"
	"time"

	"github.com/stickyprobe/stickyprobe/haplog"
	"github.com/stickyprobe/stickyprobe/internal/atomicfile"
	"github.com/stickyprobe/stickyprobe/redact"
	"github.com/urfave/cli/v2"
)

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "judge the stickiness of real traffic from HAProxy's own HTTP logs",
		ArgsUsage: "FILE...|-",
		Description: "Reads HAProxy HTTP request logs (`option httplog`) and counts, per frontend, backend and server,\n" +
			"what HAProxy recorded about each request's persistence cookie: the 3rd and 4th characters of the\n" +
			"termination state (client N I D V E O U, server N I U P R D; HAProxy's manual, section 8.5),\n" +
			"with what they mean in stickyprobe's cause words, over time (--bucket) and with a verdict:\n" +
			"of the requests that brought a cookie back (V I D E O), the share HAProxy honoured (V).\n\n" +
			"Lines may carry a syslog header (RFC 3164, RFC 5424, as HAProxy, rsyslog or journald write them)\n" +
			"or none (`log stdout format raw`); files may be rotated and gzip-compressed. A custom log-format\n" +
			"is read with --log-format as long as it has %tsc. Lines that cannot be read are counted and\n" +
			"sampled, never fatal. Memory stays bounded whatever the size of the files.\n\n" +
			"With --events, the events file of a `stickyprobe run` against the same HAProxy is joined with the\n" +
			"log, by the probe's mark header when the log captures it, else by client address and time, and\n" +
			"every switch of a broken session is shown with what HAProxy recorded for that very request.\n\n" +
			"Examples:\n" +
			"   stickyprobe logs /var/log/haproxy.log\n" +
			"   stickyprobe logs /var/log/haproxy.log.2.gz /var/log/haproxy.log.1 /var/log/haproxy.log\n" +
			"   journalctl -u haproxy -o short-iso | stickyprobe logs -\n" +
			"   stickyprobe logs --follow --bucket 10s /var/log/haproxy.log\n" +
			"   stickyprobe logs --events events.jsonl /var/log/haproxy.log\n\n" +
			logsExitCodes,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "log-format", Usage: "the frontend's custom log-format `STRING`, as in haproxy.cfg, when it is not `option httplog`'s (it must contain %tsc; clf for `option httplog clf`)"},
			&cli.DurationFlag{Name: "bucket", Value: time.Minute, Usage: "timeline step (0 = no timeline); widened when the span needs more than 2000"},
			&cli.BoolFlag{Name: "follow", Aliases: []string{"F"}, Usage: "keep reading the last file as it grows (and across rotation) until Ctrl-C, printing each bucket as it passes (standard input is read until it ends)"},
			&cli.StringFlag{Name: "events", Usage: "join the `FILE` a `stickyprobe run --events` wrote with the log, switch by switch"},
			&cli.StringFlag{Name: "tz", Value: "Local", Usage: "time zone of the log's dates (%tr has none): Local, UTC or a name like Europe/Paris"},
			&cli.Float64Flag{Name: "min-stickiness", Value: 0.99, Category: catVerdict,
				Usage: "of the requests that brought a cookie back, the share HAProxy must have sent to the server it names (real traffic always has a few stale cookies)"},
			&cli.Float64Flag{Name: "max-error-rate", Value: 0.01, Category: catVerdict,
				Usage: "share of requests allowed a 5xx or no status"},
			&cli.BoolFlag{Name: "show-secrets", Usage: "show unreadable lines' NAME=VALUE values in clear"},
			&cli.StringFlag{Name: "json", Usage: "also write the counts, timeline, verdict and joined switches as JSON (schema " + haplog.JSONSchema + ") to `FILE`; - for stdout instead of the text"},
		},
		Action: logsAction,
	}
}

const logsExitCodes = `EXIT CODES:
   0    pass: of the requests that brought a cookie back, at least --min-stickiness went to the
        server it names, and at most --max-error-rate had a 5xx or no status
   1    fail: a threshold missed
   2    usage: a bad flag or value, or an --events file that is not one
   3    nothing to judge: no file could be opened, or no line was an HTTP request
   4    inconclusive: no request brought a persistence cookie back, so the log cannot show whether
        persistence holds (no cookie persistence, or clients that never keep the cookie)`

func logsAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return fmt.Errorf("no log file: give HAProxy's log file(s), or - for standard input")
	}
	th := haplog.Thresholds{MinStickiness: c.Float64("min-stickiness"), MaxErrorRate: c.Float64("max-error-rate")}
	if th.MinStickiness < 0 || th.MinStickiness > 1 || th.MaxErrorRate < 0 || th.MaxErrorRate > 1 {
		return fmt.Errorf("--min-stickiness and --max-error-rate: want fractions between 0 and 1")
	}
	if c.Duration("bucket") < 0 {
		return fmt.Errorf("--bucket %s: want a positive duration, or 0 for no timeline", c.Duration("bucket"))
	}
	parser, err := logsParser(c)
	if err != nil {
		return err
	}
	rd := &haplog.Reader{Parser: parser, Redactor: redact.New()}
	if c.Bool("show-secrets") {
		rd.Redactor = redact.Off()
	}
	join, err := haplog.OpenJoin(c.String("events"))
	if err != nil {
		return fmt.Errorf("--events: %w", err)
	}
	s, err := haplog.Analysis{Files: c.Args().Slice(), Follow: c.Bool("follow"), Bucket: c.Duration("bucket"),
		Reader: rd, Th: th, Join: join, Live: c.App.Writer, Warn: c.App.ErrWriter}.Run(c.Context)
	if err != nil {
		return withCode(exitCannotRun, "%v", err)
	}
	if err := writeLogsReport(c, s, join); err != nil {
		return withCode(exitCannotRun, "%v", err)
	}
	if code := verdictCode(s.Verdict()); code != exitPass {
		return &exitError{code: code, err: errSilent}
	}
	return nil
}

func logsParser(c *cli.Context) (*haplog.Parser, error) {
	loc, err := time.LoadLocation(c.String("tz"))
	if err != nil {
		return nil, fmt.Errorf("--tz %q: %v", c.String("tz"), err)
	}
	var f *haplog.Format
	if s := c.String("log-format"); s != "" {
		if f, err = haplog.ParseFormat(s); err != nil {
			return nil, fmt.Errorf("--log-format: %v", err)
		}
	}
	return haplog.NewParser(f, loc), nil
}

// writeLogsReport prints the text (unless --json -) and writes --json.
func writeLogsReport(c *cli.Context, s haplog.Summary, join *haplog.Join) error {
	path := c.String("json")
	if path == "-" {
		return haplog.JSON(c.App.Writer, s, join)
	}
	if err := haplog.Text(c.App.Writer, s); err != nil {
		return err
	}
	if err := join.Write(c.App.Writer); err != nil {
		return err
	}
	if path == "" {
		return nil
	}
	f, err := atomicfile.Create(path, "--json "+path, 0o644)
	if err != nil {
		return fmt.Errorf("--json %s: %w", path, err)
	}
	defer f.Abort()
	if err := haplog.JSON(f, s, join); err != nil {
		return err
	}
	return f.Commit()
}
