package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stickyprobe/stickyprobe/metrics"
	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "probe one or more frontends and judge their stickiness",
		ArgsUsage: "URL...",
		Description: "Plays --sessions users (each with its own cookie jar, a browser's by default: --jar) against\n" +
			"the frontends, --requests each, in a shuffled order that changes every round, at most --rate\n" +
			"requests per second. A session is sticky when every response that names its backend names\n" +
			"the same one. Broken sessions are explained with a cause (no-token, token-refused,\n" +
			"token-not-sent, token-ignored, token-reassigned, after-action, after-error, frontend-changed,\n" +
			"source-changed, birth-split, unexplained) and a hint naming the directive to check, in the\n" +
			"words of the LB that answered (--lb). A move off a backend that went away is judged by\n" +
			"--on-backend-loss, not counted as breakage; --haproxy-config and --haproxy-socket add what\n" +
			"HAProxy's config and Runtime API say.\n\n" +
			"Examples:\n" +
			"   stickyprobe run http://lb.example/\n" +
			"   stickyprobe run --id header:X-Served-By --token cookie:SERVERID https://shop.example/cart\n" +
			"   stickyprobe run --resolve shop.example:443:10.0.0.5 --json report.json https://shop.example/\n" +
			"   stickyprobe run --frontends rotate https://lb1.example/ https://lb2.example/\n" +
			"   stickyprobe run --token source --source-ips 127.0.0.2-127.0.0.41 http://127.0.0.1:8080/\n" +
			"   stickyprobe run --burst 6 --http2 https://shop.example/\n\n" +
			exitCodesHelp,
		Flags:                  runFlags(),
		UseShortOptionHandling: true, // -vv
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 && !c.IsSet("resume") {
				return fmt.Errorf("no target: give at least one frontend URL, e.g. `stickyprobe run http://lb.example/`")
			}
			return probeAction(c, nil, c.Args().Slice())
		},
	}
}

// runFlags are the flags of `run` and `scenario run`: every output either
// can write, so both honour the same ones.
func runFlags() []cli.Flag {
	return concat(probeFlags(), outputFlags(), stateFlags(), []cli.Flag{textfileFlag(), scenarioLabelFlag(), haproxySocketFlag(), haproxyConfigFlag(), markFlag(), runHAProxyLogFlag()}, profileFlags())
}

func concat(lists ...[]cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// probeAction is `run` and `scenario run`: the spec from the scenario
// file f (nil for run) and the flags, the options from the flags, one
// pipeline run, the exit code from its verdict.
func probeAction(c *cli.Context, f *scenarios.File, urls []string) error {
	spec, resume, err := specFromFlags(c, f, urls)
	if err != nil {
		return err
	}
	opts, err := optionsFromFlags(c, spec, resume)
	if err != nil {
		return err
	}
	if err := haproxyConfigHook(c, f, &spec, &opts); err != nil {
		return err
	}
	// The socket watch warns from its own goroutine while the run writes
	// progress and phases: one lock for all of them.
	opts.Stderr = pipeline.SyncWriter(c.App.ErrWriter)
	lbw, err := startLBWatch(c.Context, c.String("haproxy-socket"), opts.Stderr)
	if err != nil {
		return err
	}
	defer lbw.stop(c.Context)
	if lbw != nil {
		opts.Observer = lbObserver{lbw, c.Context}
	}
	hlog, err := newRunHAProxyLog(c) // run_haproxylog.go
	if err != nil {
		return err
	}
	if hlog != nil {
		opts.Sinks = append(opts.Sinks, hlog)
	}
	opts.Mark = markRun(c)
	stopProfiles, err := startProfiles(c)
	if err != nil {
		return err
	}
	warnRunPlan(opts.Stderr, spec)
	res, err := pipeline.Run(c.Context, spec, opts)
	if perr := stopProfiles(); perr != nil && err == nil {
		err = withCode(exitCannotRun, "%v", perr)
	}
	return runExit(res, err)
}

// specFromFlags builds the spec: scenario file f's with the flags given on
// the command line over it, or for run (f nil) the flags and their
// defaults; then --resume's saved sessions, and the checks that refuse a
// run before it sends a request. Every error names the flag or key at
// fault.
func specFromFlags(c *cli.Context, f *scenarios.File, urls []string) (scenarios.Spec, *pipeline.State, error) {
	spec, err := specFrom(c, f, urls)
	if err != nil {
		return spec, nil, err
	}
	if err := overrideExec(&spec, c.StringSlice("exec")); err != nil {
		return spec, nil, err
	}
	resume, err := resumeInto(c, &spec)
	if err != nil {
		return spec, nil, err
	}
	if f != nil {
		if err := f.RequireTarget(spec); err != nil {
			return spec, nil, err
		}
	}
	if err := spec.Validate(); err != nil {
		return spec, nil, err
	}
	return spec, resume, checkJudgeable(spec, resume != nil)
}

// specFrom is the spec of f (the defaults when nil) with urls and the
// flags over it: for a file only the flags given, whose values replace
// the file's; for run every flag, default or not.
func specFrom(c *cli.Context, f *scenarios.File, urls []string) (scenarios.Spec, error) {
	spec, given := scenarios.Default(), func(string) bool { return true }
	if f != nil {
		spec, given = f.Spec, c.IsSet
	}
	if len(urls) > 0 {
		spec.URLs = nil
		if err := applyURLs(&spec, urls); err != nil {
			return spec, err
		}
	}
	return spec, applyFlags(c, &spec, given)
}

// resumeInto loads --resume's state, if given, and makes the spec
// continue it.
func resumeInto(c *cli.Context, spec *scenarios.Spec) (*pipeline.State, error) {
	path := c.String("resume")
	if path == "" {
		return nil, nil
	}
	st, err := readInput(c.Context, func() (*pipeline.State, error) { return pipeline.LoadState(path) })
	if err != nil {
		return nil, err
	}
	return st, st.Into(spec, path, c.IsSet)
}

// optionsFromFlags reads every output flag of run and scenario run.
func optionsFromFlags(c *cli.Context, spec scenarios.Spec, resume *pipeline.State) (pipeline.Options, error) {
	o := pipeline.Options{
		Outputs: pipeline.Outputs{
			Files:        map[string]string{},
			Events:       c.String("events"),
			SaveState:    c.String("save-state"),
			PromTextfile: c.String("prom-textfile"),
			HARAll:       c.Bool("har-all"),
			Private:      c.Bool("show-secrets"),
			Quiet:        c.Bool("quiet"),
		},
		Stdout: c.App.Writer, Stderr: c.App.ErrWriter,
		Verbose:     c.Bool("verbose"),
		Progress:    !c.Bool("no-progress") && !c.Bool("verbose") && isTerminal(c.App.ErrWriter),
		Creator:     "stickyprobe " + version,
		Metrics:     metrics.Options{Scenario: c.String("scenario-label"), Version: version},
		Resume:      resume,
		Stdin:       c.App.Reader,
		Interactive: isTerminalReader(c.App.Reader),
		LB:          c.String("lb"),
	}
	for _, f := range pipeline.FileFormats() {
		o.Outputs.Files[f.Name] = c.String(f.Flag)
	}
	return o, traceOptions(c, spec, &o)
}

// runExit maps a pipeline run to the exit status: nil for a pass.
func runExit(res *pipeline.Result, err error) error {
	switch {
	case res == nil:
		return err // refused before the first request: a usage error
	case errors.Is(err, pipeline.ErrPause):
		return withCode(exitUsage, "%v", err)
	case err != nil:
		return withCode(exitCannotRun, "%s", strings.TrimPrefix(err.Error(), pipeline.ErrOutput.Error()+": "))
	case res.Run.Interrupted:
		return &exitError{code: exitInterrupted, err: errSilent}
	}
	if code := verdictCode(res.Report.Verdict); code != exitPass {
		return &exitError{code: code, err: errSilent}
	}
	return nil
}

// readInput runs read (opening and reading an input file) so that a
// signal is honoured meanwhile: a FIFO with no writer blocks open(2)
// forever, and the first Ctrl-C or SIGTERM must still stop the process.
// The read goes on in the background; the process is about to exit.
func readInput[T any](ctx context.Context, read func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := read()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, withCode(exitInterrupted, "interrupted while reading the input")
	}
}

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
