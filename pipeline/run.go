package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/stickyprobe/stickyprobe/metrics"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/redact"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

// Options are how a run reports, beyond what its spec probes. The zero
// value runs silently: no output, nothing on stdout or stderr.
type Options struct {
	Outputs        Outputs
	Stdout, Stderr io.Writer                // nil: discarded
	Redactor       *redact.Redactor         // nil: redact.New()
	Verbose        bool                     // one line per request on Stderr
	Headers        bool                     // with Verbose: the request and response headers too
	Color          bool                     // Verbose lines in color
	Progress       bool                     // a progress bar on Stderr
	Command        func(seed uint64) string // the command line that repeats the run, for the report
	Creator        string                   // "stickyprobe VERSION", in the events file and the HAR
	Metrics        metrics.Options          // for Outputs.PromTextfile
	Resume         *State                   // continue these sessions (spec made to match with State.Into)
	Stdin          io.Reader                // what a pause phase reads Enter from
	Interactive    bool                     // Stdin is a terminal: a pause phase may wait on it
	Sinks          []Sink                   // the caller's own consumers, after the built-in ones
	Observer       Observer                 // the LB's own view of the run; nil: none
	Mark           string                   // the run id in each request's mark header (probe.WithMark); "": no mark
	Clock          Clock                    // nil: RealClock
	Exec           Exec                     // nil: ShellExec
	// Annotate add to the report once it is judged, before any output is
	// written (run --haproxy-config ties causes to config lines).
	Annotate []func(*report.Report)
	// LB says whose words the hints are in (Run.LB): haproxy, nginx,
	// caddy, apache or generic as given, "auto" to tell it from the
	// responses (the persistence cookie, the first response's Server
	// header), "": HAProxy's without a word in the report.
	LB string
}

// Result is what a run produced.
type Result struct {
	Run         report.Run
	Report      *report.Report  // set by the summary's Close
	Summary     *report.Summary // the summary the report was judged from
	Unreachable bool            // stopped because the first requests all failed
	Err         error           // what stopped the run early, if anything (ErrUnreachable, probe.ErrMaxDuration, ErrPause, ctx's)
}

// ErrOutput wraps every error about an output that could not be written
// after the run: the verdict is in the Result, but a file asked for is
// missing or incomplete.
var ErrOutput = errors.New("output not written")

func (o *Options) defaults() {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	o.Stderr = SyncWriter(o.Stderr) // phases and the event loop both write to it
	if o.Redactor == nil {
		o.Redactor = redact.New()
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Exec == nil {
		o.Exec = ShellExec
	}
	if o.Creator == "" {
		o.Creator = "stickyprobe dev"
	}
}

// Run probes spec end to end: it opens every output (an error there is
// the caller's, before any request), runs the phases, streams each event
// to every sink and writes the outputs. The error is nil when the run
// completed and every output was written, whatever the verdict: the
// verdict is Result.Report's. A run stopped by ctx returns its partial
// report, Run.Interrupted set.
func Run(ctx context.Context, spec scenarios.Spec, o Options) (*Result, error) {
	o.defaults()
	r, err := prepare(spec, &o)
	if err != nil {
		return nil, err
	}
	defer r.cleanup()
	return r.run(ctx)
}

// prepared is a run with everything opened, before its first request.
type prepared struct {
	spec    scenarios.Spec
	o       *Options
	runner  *probe.Runner
	phases  *scenarioRun
	op      *opened
	events  *eventsSink
	summary *report.Summary
	res     *Result
}

func prepare(spec scenarios.Spec, o *Options) (*prepared, error) {
	runner, err := probe.NewRunner(spec, probe.WithTrace(probe.Trace{
		Headers:  o.Outputs.Files["har"] != "" || o.Headers,
		Redactor: o.Redactor,
	}), probe.WithMark(o.Mark))
	if err != nil {
		return nil, err
	}
	if err := runner.CheckSources(); err != nil {
		return nil, err
	}
	phases, err := newScenarioRun(spec, runner, o)
	if err != nil {
		return nil, err
	}
	op, err := o.Outputs.open()
	if err != nil {
		return nil, err
	}
	r := &prepared{spec: spec, o: o, runner: runner, phases: phases, op: op}
	r.res = &Result{Run: r.runInfo()}
	opts := SummaryOptions(spec)
	if r.events, err = newEventsSink(op, o.Outputs, o.Stdout, r.eventsHeader(opts)); err != nil {
		op.abort()
		return nil, err
	}
	r.summary = report.NewSummary(opts)
	if o.Observer != nil {
		o.Observer.Attach(r.summary)
	}
	r.summary.SetPlan(phases.reportPlan())
	if o.Resume != nil {
		if err := o.Resume.apply(runner, r.summary); err != nil {
			r.cleanup()
			return nil, err
		}
	}
	if o.Outputs.SaveState != "" {
		runner.RecordCookies()
	}
	return r, nil
}

// cleanup removes what a run leaves only while it runs: the HAR's
// temporary events, outputs not committed.
func (r *prepared) cleanup() {
	r.events.cleanup()
	r.op.abort()
}

// runInfo is the run as known at its start.
func (r *prepared) runInfo() report.Run {
	spec, o := r.spec, r.o
	command := ""
	if o.Command != nil {
		command = o.Command(r.runner.Seed())
	}
	run := report.Run{
		Scenario: spec.Name,
		Targets:  Targets(spec, o.Redactor),
		Identify: spec.Identify.String(),
		Token:    spec.Token.String(),
		Conn:     string(spec.Conn),
		Seed:     r.runner.Seed(),
		Started:  o.Clock.Now().UTC(),
		Command:  command,
	}
	topologyRun(&run, spec)
	return run
}

// eventsHeader is the first line of the events file: what a replay needs
// besides the events to print the same report.
func (r *prepared) eventsHeader(opts report.Options) report.EventsHeader {
	return report.EventsHeader{
		Creator:  r.o.Creator,
		Sessions: r.spec.Sessions,
		Control:  r.spec.Control(),
		Redacted: r.o.Redactor.Enabled(),
		Options:  opts,
		Run:      r.res.Run,
	}
}

func (r *prepared) run(ctx context.Context) (*Result, error) {
	o, res := r.o, r.res
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sinks := r.sinks(cancel)
	started := o.Clock.Now()
	runErr := fanOut(runCtx, r.phases.run, sinks)
	res.Run.DurationS = o.Clock.Now().Sub(started).Round(time.Millisecond).Seconds()
	res.Run.Interrupted = ctx.Err() != nil
	res.Run.Truncated = errors.Is(runErr, probe.ErrMaxDuration)
	res.Run.Cut = r.runner.Cut()
	if runErr != nil {
		res.Err = runErr
		if c := context.Cause(runCtx); errors.Is(c, ErrUnreachable) {
			res.Err = c
		}
	}
	if o.LB != "" {
		res.Run.LB = chooseLB(o.LB, r.summary.TokenName(), r.runner)
	}
	if err := closeAll(res, sinks); err != nil {
		return res, fmt.Errorf("%w: %w", ErrOutput, err)
	}
	if errors.Is(runErr, ErrPause) {
		return res, runErr
	}
	return res, nil
}

// sinks are the run's consumers in the order they take each event and
// are closed: the summary first (the others read its verdict), what
// annotates its report, the events file (its trailer keeps what the
// annotations added), the outputs, the caller's, and last the stop on an
// unreachable target.
func (r *prepared) sinks(cancel context.CancelCauseFunc) []Sink {
	o := r.o
	sinks := []Sink{
		newProgress(o.Stderr, o.Progress, r.runner.Total(), o.Clock.Now(), o.Clock.Now),
	}
	var annotate Sink
	if o.Observer != nil {
		var stop Sink
		stop, annotate = observerSinks(o.Observer)
		sinks = append(sinks, stop)
	}
	sinks = append(sinks, summarySink{s: r.summary, before: r.phases.record})
	if annotate != nil {
		sinks = append(sinks, annotate)
	}
	for _, annotate := range o.Annotate {
		sinks = append(sinks, funcSink{close: func(res *Result) error { annotate(res.Report); return nil }})
	}
	if r.events != nil {
		sinks = append(sinks, r.events) // closed after the annotations: its trailer keeps them for a replay
	}
	if o.Verbose {
		sinks = append(sinks, verboseSink{p: &verbosePrinter{w: o.Stderr, headers: o.Headers, color: o.Color}, s: r.summary})
	}
	if r.op.prom != nil {
		sinks = append(sinks, newPromSink(r.op.prom, o.Metrics, SummaryOptions(r.spec), o.Stderr, o.Clock))
	}
	sinks = append(sinks, &reportsSink{r: r})
	if r.op.state != nil {
		sinks = append(sinks, funcSink{close: r.saveState})
	}
	sinks = append(sinks, o.Sinks...)
	return append(sinks, &stopper{cancel: cancel, w: o.Stderr})
}

func (r *prepared) saveState(res *Result) error {
	if err := saveState(r.op.state, r.spec, r.runner, res.Summary, r.o.Clock.Now()); err != nil {
		return fmt.Errorf("--save-state: %w", err)
	}
	fmt.Fprintf(r.o.Stderr, "saved %d sessions to %s (it holds their cookies: keep it private)\n", len(r.runner.Snapshot()), r.o.Outputs.SaveState)
	return nil
}

// SummaryOptions are the thresholds and token kind a spec is judged with.
func SummaryOptions(spec scenarios.Spec) report.Options {
	return report.Options{
		MinStickiness: spec.MinStickiness,
		MaxErrorRate:  spec.MaxErrorRate,
		ExpectSpread:  spec.Token.Kind == scenarios.TokenNone,
		CookieToken:   spec.Token.Kind == scenarios.TokenCookie || spec.Token.Kind == scenarios.TokenAuto,
		SourceToken:   spec.Token.Kind == scenarios.TokenSource,
		OnBackendLoss: spec.OnBackendLoss,
		MinBackends:   spec.MinBackends,
		MaxImbalance:  spec.MaxImbalance,
	}
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

// Targets are the frontends as reports show them: a URL's password is
// redacted.
func Targets(spec scenarios.Spec, rd *redact.Redactor) []string {
	t := make([]string, len(spec.URLs))
	for i, u := range spec.URLs {
		t[i] = rd.URL(u)
	}
	return t
}

// chooseLB is Options.LB for a run: the kind given, or with "auto" the
// one the run's own responses point at. Detection sends no request.
func chooseLB(choice, tokenName string, runner *probe.Runner) *report.LB {
	if choice != "auto" {
		return &report.LB{Kind: choice, Why: "--lb " + choice}
	}
	ev := report.LBEvidence{TokenName: tokenName}
	if look, ok := runner.FirstLook(); ok {
		ev.Server, ev.Cookies, ev.Response = look.Server, look.Cookies, true
	}
	lb := report.DetectLB(ev)
	return &lb
}
