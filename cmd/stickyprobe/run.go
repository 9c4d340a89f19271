package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/redact"
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
			"token-ignored, token-reassigned, after-action, after-error, frontend-changed, source-changed,\n" +
			"birth-split, unexplained) and a hint naming the HAProxy directive to check. A move off a\n" +
			"backend that went away is judged by --on-backend-loss, not counted as breakage.\n\n" +
			"Examples:\n" +
			"   stickyprobe run http://lb.example/\n" +
			"   stickyprobe run --id header:X-Served-By --token cookie:SERVERID https://shop.example/cart\n" +
			"   stickyprobe run --resolve shop.example:443:10.0.0.5 --json report.json https://shop.example/\n" +
			"   stickyprobe run --frontends rotate https://lb1.example/ https://lb2.example/\n" +
			"   stickyprobe run --token source --source-ips 127.0.0.2-127.0.0.41 http://127.0.0.1:8080/\n" +
			"   stickyprobe run --burst 6 --http2 https://shop.example/\n\n" +
			exitCodesHelp,
		Flags:                  append(append(append(append(probeFlags(), outputFlags()...), stateFlags()...), textfileFlag(), scenarioLabelFlag()), profileFlags()...),
		UseShortOptionHandling: true, // -vv
		Action: func(c *cli.Context) error {
			spec, err := specFromFlags(c)
			if err != nil {
				return err
			}
			resume, err := resumeInto(c, &spec)
			if err != nil {
				return err
			}
			if err := spec.Validate(); err != nil {
				return err
			}
			if err := checkJudgeable(spec, resume != nil); err != nil {
				return err
			}
			if err := checkTextfileDir(c.String("prom-textfile")); err != nil {
				return err
			}
			out := outputs{
				stdout: c.App.Writer, stderr: c.App.ErrWriter,
				jsonPath: c.String("json"), eventsPath: c.String("events"),
				verbose: c.Bool("verbose"), quiet: c.Bool("quiet"), lb: c.String("lb"),
				progress: !c.Bool("no-progress") && !c.Bool("verbose") && isTerminal(c.App.ErrWriter),
			}
			if err := traceOutputs(c, spec, &out); err != nil {
				return err
			}
			stateOutputs(c, &out, resume)
			prom := newPromTextfile(c, spec)
			if prom != nil {
				out.observe = prom.add
			}
			stopProfiles, err := startProfiles(c)
			if err != nil {
				return err
			}
			rep, err := execute(c.Context, spec, out)
			if perr := stopProfiles(); perr != nil && err == nil {
				err = withCode(exitCannotRun, "%v", perr)
			}
			if prom != nil && rep != nil {
				if perr := prom.finish(rep, c.App.ErrWriter); perr != nil {
					return perr
				}
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
	quiet                bool               // no table
	lb                   string             // --lb: whose words the hints are in; "" or auto detects (lbhint.go)
	trace                                   // HAR, Markdown, -vv, redaction, rerun command (trace.go)
	observe              func(*probe.Event) // e.g. --prom-textfile; nil = none

	junitPath     string     // JUnit XML report
	saveStatePath string     // --save-state: the sessions, for a later --resume
	resume        *stateFile // --resume: sessions to continue
	stdin         io.Reader  // for pause phases
	interactive   bool       // stdin is a terminal, so a pause phase can wait for Enter
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
	if out.redactor == nil {
		out.redactor = redact.New()
	}
	runner, err := probe.NewRunner(spec, probe.WithTrace(probe.Trace{
		Headers:  out.harPath != "" || out.headers,
		Redactor: out.redactor,
	}))
	if err != nil {
		return nil, err
	}
	if err := runner.CheckSources(); err != nil {
		return nil, err
	}
	out.stderr = &lockedWriter{w: out.stderr} // phases and the event loop both write to it
	phases, err := newScenarioRun(spec, runner, out)
	if err != nil {
		return nil, err
	}
	opts := summaryOptions(spec)
	started := time.Now()
	command := ""
	if out.command != nil {
		command = out.command(runner.Seed())
	}
	runInfo := report.Run{
		Scenario: spec.Name,
		Targets:  targets(spec, out.redactor),
		Identify: spec.Identify.String(),
		Token:    spec.Token.String(),
		Conn:     string(spec.Conn),
		Seed:     runner.Seed(),
		Started:  started.UTC(),
		Command:  command,
	}
	topologyRun(&runInfo, spec)
	sink, err := openSink(out, eventsHeader(spec, opts, runInfo, out.redactor))
	if err != nil {
		return nil, err
	}
	defer sink.cleanup()
	summary := report.NewSummary(opts)
	summary.SetPlan(phases.reportPlan())
	if out.resume != nil {
		if err := out.resume.apply(runner, summary); err != nil {
			return nil, err
		}
	}
	if out.saveStatePath != "" {
		runner.RecordCookies()
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ch := make(chan probe.Event, 1024)
	done := make(chan error, 1)
	go func() { done <- phases.run(runCtx, ch) }()

	bar := newProgress(out.stderr, out.progress, runner.Total(), started)
	vp := &verbosePrinter{w: out.stderr, headers: out.headers, color: out.color}
	var ok, failedInARow int
	for ev := range ch {
		summary.Add(&ev)
		sink.add(&ev)
		if out.verbose {
			vp.print(&ev, summary)
		}
		if out.observe != nil {
			out.observe(&ev)
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
	phases.record(summary)

	runInfo.DurationS = time.Since(started).Round(time.Millisecond).Seconds()
	runInfo.Interrupted = ctx.Err() != nil
	runInfo.Truncated = errors.Is(runErr, probe.ErrMaxDuration)
	runInfo.LB = detectLB(ctx, spec, out.lb, summary.TokenName())
	sinkErr := sink.close(runInfo) // the trailer: what a replay needs to print this very report
	rep := summary.Close(runInfo)
	if err := writeReports(rep, out); err != nil {
		return rep, withCode(exitCannotRun, "%v", err)
	}
	if sinkErr != nil {
		return rep, withCode(exitCannotRun, "writing events to %s: %v", orDash(out.eventsPath), sinkErr)
	}
	if err := writeEvidence(rep, summary, sink, out); err != nil {
		return rep, withCode(exitCannotRun, "%v", err)
	}
	if out.saveStatePath != "" {
		if err := saveState(out.saveStatePath, spec, runner, summary); err != nil {
			return rep, withCode(exitCannotRun, "--save-state: %v", err)
		}
		fmt.Fprintf(out.stderr, "saved %d sessions to %s (it holds their cookies: keep it private)\n", len(runner.Snapshot()), out.saveStatePath)
	}
	if errors.Is(runErr, errPause) {
		return rep, withCode(exitUsage, "%v", runErr)
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

// checkJudgeable refuses a run that cannot judge a single session: one is
// judged by two responses that name a backend, and a run that sends each
// session one request ends in "no session could be judged" after doing
// all its work. A resumed run continues sessions that already have theirs.
func checkJudgeable(spec scenarios.Spec, resumed bool) error {
	if resumed {
		return nil
	}
	n := 0
	for _, p := range spec.Plan() {
		switch {
		case p.Kind != scenarios.PhaseRequests:
		case p.Requests == 0:
			return nil // a timed phase: as many as its duration allows
		default:
			n += p.Requests
		}
	}
	if n < 2 {
		return fmt.Errorf("--requests %d: a session is judged by two responses or more that name its backend; give --requests 2 or more", n)
	}
	return nil
}

// topologyRun fills in the report's words for the topology settings of a
// run: only those that are not the plain default.
func topologyRun(run *report.Run, spec scenarios.Spec) {
	if len(spec.Nodes()) > 1 {
		run.Frontends = string(spec.Frontends)
	}
	run.SourceIPs = spec.SourceIPs.String()
	run.SourceMoveAfter = spec.SourceMoveAfter
	if spec.Burst > 1 {
		run.Burst = spec.Burst
	}
	run.HTTP2 = spec.HTTP2
}

// targets are the frontends as reports show them: a URL's password is
// redacted.
func targets(spec scenarios.Spec, rd *redact.Redactor) []string {
	t := make([]string, len(spec.URLs))
	for i, u := range spec.URLs {
		t[i] = rd.URL(u)
	}
	return t
}

// writeReports writes the JSON report and the table. With --json - the
// table goes to stderr, so stdout stays machine-readable.
func writeReports(rep *report.Report, out outputs) error {
	tableTo := out.stdout
	if out.jsonPath != "" {
		if err := writeJSON(rep, out.jsonPath, !out.redactor.Enabled(), out.stdout); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
		if out.jsonPath == "-" {
			tableTo = out.stderr
		}
	}
	if out.junitPath != "" {
		if err := writeFile(out.junitPath, !out.redactor.Enabled(), func(w io.Writer) error { return report.JUnit(w, rep) }); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	if out.quiet {
		return nil
	}
	return report.Table(tableTo, rep)
}

func writeJSON(rep *report.Report, path string, private bool, stdout io.Writer) error {
	if path == "-" {
		return report.JSON(stdout, rep)
	}
	f, err := createOutput(path, private)
	if err != nil {
		return err
	}
	if err := report.JSON(f, rep); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
