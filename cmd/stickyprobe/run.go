package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "probe one or more frontends and judge their stickiness",
		ArgsUsage: "URL...",
		Description: "Plays --sessions users (each with its own RFC 6265 cookie jar) against the frontends, --requests\n" +
			"each, in a shuffled order that changes every round, at most --rate requests per second.\n" +
			"A session is sticky when every response that names its backend names the same one.\n" +
			"Broken sessions are explained with a cause (no-token, token-refused, token-not-sent,\n" +
			"token-ignored, token-reassigned, after-error, unexplained) and a hint naming the HAProxy\n" +
			"directive to check.\n\n" +
			"Examples:\n" +
			"   stickyprobe run http://lb.example/\n" +
			"   stickyprobe run --id header:X-Served-By --token cookie:SERVERID https://shop.example/cart\n" +
			"   stickyprobe run --resolve shop.example:443:10.0.0.5 --json report.json https://shop.example/\n\n" +
			exitCodesHelp,
		Flags: append(append(probeFlags(), outputFlags()...), profileFlags()...),
		Action: func(c *cli.Context) error {
			spec, err := specFromFlags(c)
			if err != nil {
				return err
			}
			stopProfiles, err := startProfiles(c)
			if err != nil {
				return err
			}
			out := outputs{
				stdout: c.App.Writer, stderr: c.App.ErrWriter,
				jsonPath: c.String("json"), eventsPath: c.String("events"),
				verbose: c.Bool("verbose"), quiet: c.Bool("quiet"),
				progress: !c.Bool("no-progress") && !c.Bool("verbose") && isTerminal(c.App.ErrWriter),
			}
			_, err = execute(c.Context, spec, out)
			if perr := stopProfiles(); perr != nil && err == nil {
				err = withCode(exitCannotRun, "%v", perr)
			}
			return err
		},
	}
}

// outputs says where a run's results go.
type outputs struct {
	stdout, stderr       io.Writer
	jsonPath, eventsPath string
	verbose, progress    bool
	quiet                bool // no table
}

// unreachableAfter stops a run whose first requests all fail to connect:
// hammering a dead address teaches nothing.
const unreachableAfter = 20

// execute runs the probe, streams its events into the summary and the
// optional sinks, writes the reports and returns the exit status as an
// error (nil for a pass).
func execute(ctx context.Context, spec scenarios.Spec, out outputs) (*report.Report, error) {
	if out.jsonPath == "-" && out.eventsPath == "-" {
		return nil, errors.New("--json - and --events - both want stdout; send one of them to a file")
	}
	runner, err := probe.NewRunner(spec)
	if err != nil {
		return nil, err
	}
	events, closeEvents, err := openEvents(out.eventsPath, out.stdout)
	if err != nil {
		return nil, err
	}
	summary := report.NewSummary(report.Options{
		MinStickiness: spec.MinStickiness,
		MaxErrorRate:  spec.MaxErrorRate,
		ExpectSpread:  spec.Token.Kind == scenarios.TokenNone,
		CookieToken:   spec.Token.Kind == scenarios.TokenCookie || spec.Token.Kind == scenarios.TokenAuto,
	})

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ch := make(chan probe.Event, 1024)
	done := make(chan error, 1)
	started := time.Now()
	go func() { done <- runner.Run(runCtx, ch) }()

	bar := newProgress(out.stderr, out.progress, runner.Total(), started)
	var ok, failedInARow int
	var sinkErr error
	for ev := range ch {
		summary.Add(&ev)
		if events != nil && sinkErr == nil {
			sinkErr = events.Encode(&ev)
		}
		if out.verbose {
			printEvent(out.stderr, &ev)
		}
		bar.add(&ev)
		switch {
		case ev.Error == "" || ev.Error == probe.ErrHTTP5xx:
			ok++
		case ok == 0:
			if failedInARow++; failedInARow == unreachableAfter {
				fmt.Fprintf(out.stderr, "stickyprobe: the first %d requests all failed (%s: %s); stopping\n", unreachableAfter, ev.Error, ev.Detail)
				cancel(errUnreachable)
			}
		}
	}
	runErr := <-done
	bar.finish()
	if err := closeEvents(); err != nil && sinkErr == nil {
		sinkErr = err
	}

	rep := summary.Close(report.Run{
		Targets:     targets(spec),
		Identify:    spec.Identify.String(),
		Token:       spec.Token.String(),
		Conn:        string(spec.Conn),
		Seed:        runner.Seed(),
		Started:     started.UTC(),
		DurationS:   time.Since(started).Round(time.Millisecond).Seconds(),
		Interrupted: ctx.Err() != nil,
		Truncated:   errors.Is(runErr, probe.ErrMaxDuration),
	})
	if err := writeReports(rep, out); err != nil {
		return rep, withCode(exitCannotRun, "%v", err)
	}
	if sinkErr != nil {
		return rep, withCode(exitCannotRun, "writing events to %s: %v", out.eventsPath, sinkErr)
	}
	if rep.Run.Interrupted {
		return rep, &exitError{code: exitInterrupted, err: errSilent}
	}
	if code := verdictCode(rep.Verdict); code != exitPass {
		return rep, &exitError{code: code, err: errSilent}
	}
	return rep, nil
}

var errUnreachable = errors.New("target unreachable")

func targets(spec scenarios.Spec) []string {
	t := make([]string, len(spec.URLs))
	for i, u := range spec.URLs {
		t[i] = u.String()
	}
	return t
}

// openEvents opens the JSON Lines sink; "" means none.
func openEvents(path string, stdout io.Writer) (*json.Encoder, func() error, error) {
	switch path {
	case "":
		return nil, func() error { return nil }, nil
	case "-":
		w := bufio.NewWriter(stdout)
		return json.NewEncoder(w), w.Flush, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--events: %w", err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	return json.NewEncoder(w), func() error {
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}, nil
}

// writeReports writes the JSON report and the table. With --json - the
// table goes to stderr, so stdout stays machine-readable.
func writeReports(rep *report.Report, out outputs) error {
	tableTo := out.stdout
	if out.jsonPath != "" {
		if err := writeJSON(rep, out.jsonPath, out.stdout); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
		if out.jsonPath == "-" {
			tableTo = out.stderr
		}
	}
	if out.quiet {
		return nil
	}
	return report.Table(tableTo, rep)
}

func writeJSON(rep *report.Report, path string, stdout io.Writer) error {
	if path == "-" {
		return report.JSON(stdout, rep)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := report.JSON(f, rep); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// printEvent is the -v line: session, seq, status, backend, token, latency.
func printEvent(w io.Writer, ev *probe.Event) {
	who := fmt.Sprintf("s%d", ev.Session)
	if ev.Control {
		who = fmt.Sprintf("c%d", ev.Session)
	}
	status := fmt.Sprint(ev.Status)
	if ev.Error != "" && ev.Error != probe.ErrHTTP5xx {
		status = string(ev.Error)
	}
	backend := ev.Backend
	if backend == "" {
		backend = "?"
	}
	token := "sent=" + orDash(ev.TokenSent)
	switch {
	case ev.TokenDeleted:
		token += " deleted"
	case ev.TokenRefused != "":
		token += " set=" + ev.TokenSet + " refused:" + string(ev.TokenRefused)
	case ev.TokenSet != "":
		token += " set=" + ev.TokenSet
	}
	reused := ""
	if ev.Reused {
		reused = " reused"
	}
	fmt.Fprintf(w, "%-6s #%-3d %-8s %-12s %-28s %7.1fms %s%s\n", who, ev.Seq, status, backend, token,
		float64(ev.Latency.Microseconds())/1000, ev.Frontend, reused)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
