package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/stickyprobe/stickyprobe/haplog"
	"github.com/stickyprobe/stickyprobe/internal/atomicfile"
	"github.com/stickyprobe/stickyprobe/redact"
	"github.com/stickyprobe/stickyprobe/report"
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
	stats := haplog.NewStats(c.Duration("bucket"))
	join, err := openJoin(c.String("events"))
	if err != nil {
		return err
	}
	var mu sync.Mutex
	add := func(r *haplog.Record) {
		mu.Lock()
		stats.Add(r)
		mu.Unlock()
		join.Add(r)
	}
	if err := readLogs(c, rd, &mu, stats, add); err != nil {
		return err
	}
	s := haplog.Summary{Files: c.NArg(), Reader: rd, Stats: stats, Judged: haplog.Judge(stats, th), Th: th}
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

// readLogs reads the files in order; with --follow the last one is
// followed until the command is interrupted.
func readLogs(c *cli.Context, rd *haplog.Reader, mu *sync.Mutex, stats *haplog.Stats, add func(*haplog.Record)) error {
	files := c.Args().Slice()
	opened := 0
	for i, name := range files {
		var r io.ReadCloser
		var err error
		if c.Bool("follow") && i == len(files)-1 && name != "-" {
			r, err = haplog.Follow(c.Context, name, false)
			if err == nil {
				stop := liveBuckets(c, mu, stats)
				defer stop()
			}
		} else {
			r, err = haplog.Open(name)
		}
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "stickyprobe: warning: %v (skipped)\n", err)
			continue
		}
		opened++
		err = rd.Read(name, r, add)
		r.Close()
		if err != nil {
			// A truncated rotated file: what was read counts.
			fmt.Fprintf(c.App.ErrWriter, "stickyprobe: warning: %v (read up to there)\n", err)
		}
	}
	if opened == 0 {
		return withCode(exitCannotRun, "none of the log files could be opened")
	}
	return nil
}

// liveBuckets prints, while following, one line per --bucket of wall
// clock: the requests of that interval and how they went. It shares stats
// with the reader through mu.
func liveBuckets(c *cli.Context, mu *sync.Mutex, stats *haplog.Stats) func() {
	every := c.Duration("bucket")
	if every <= 0 {
		every = time.Minute
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		var last haplog.Counts
		for {
			select {
			case <-stop:
				return
			case <-c.Context.Done():
				return
			case now := <-tick.C:
				mu.Lock()
				cur := stats.Total
				mu.Unlock()
				fmt.Fprintln(c.App.Writer, liveLine(now, &last, &cur))
				last = cur
			}
		}
	}()
	return func() { close(stop); <-done }
}

// liveLine is the delta between two totals: "15:04:05  120 requests ...".
func liveLine(now time.Time, prev, cur *haplog.Counts) string {
	d := func(s byte) int64 { return cur.ByClient(s) - prev.ByClient(s) }
	kept := d('V')
	back := kept + d('I') + d('D') + d('E') + d('O')
	sticky := "-"
	if back > 0 {
		sticky = fmt.Sprintf("%.1f%%", 100*float64(kept)/float64(back))
	}
	return fmt.Sprintf("%s  %d requests  sticky %s  V %d  I %d  D %d  E %d  O %d  N %d  5xx %d",
		now.Format("15:04:05"), cur.Requests-prev.Requests, sticky, kept, d('I'), d('D'), d('E'), d('O'), d('N'), cur.Errors-prev.Errors)
}

// openJoin reads the events file's report and switches; "" joins nothing.
func openJoin(path string) (*haplog.Join, error) {
	if path == "" {
		return nil, nil
	}
	rp, err := report.OpenReplay(path)
	if err != nil {
		return nil, fmt.Errorf("--events: %w", err)
	}
	rep, _, err := rp.Report()
	if err != nil {
		return nil, fmt.Errorf("--events: %w", err)
	}
	j, err := haplog.NewJoin(rep, rp.Each)
	if err != nil {
		return nil, fmt.Errorf("--events: %w", err)
	}
	return j, nil
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
