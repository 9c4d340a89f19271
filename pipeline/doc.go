// Package pipeline runs a probe end to end, the one way every command
// does: Run opens every output before the first request (a path that
// cannot be written is the caller's error, with no traffic sent), runs the
// scenario's phases in order (requests phases through probe.Runner; exec,
// wait and pause phases here, on an injected Clock and Exec so their logic
// is tested without sleeping or a shell), gives every event to each Sink,
// and once the run is over closes the sinks in order: the summary judges
// the run, then the outputs are written from its report.
//
// Sink is the one shape of an event consumer (Add each event, Close with
// the Result): the summary, the events file, the HAR, the metrics
// textfile, the progress bar, -v, the stop on a target whose first
// requests all fail, and a caller's own (Options.Sinks).
//
// Formats is the registry of what a report can be rendered as: each
// format's name, the flag that asks for it, whether it may go to stdout,
// and what it is rendered from (the report alone, or the recorded events
// too, as the HAR is). Commands offer exactly the formats of the registry,
// so a flag can never be accepted and then ignored.
//
// Every file but the events file is written atomically (internal/
// atomicfile); the events file is streamed in whole lines, so a killed
// probe leaves one that replays. State is the --save-state file, which
// Into and Options.Resume continue. Prober and Schedule are the monitor's
// (package monitor runs them): cycles of the spec's requests phases,
// optionally on kept sessions, on a jittered schedule. PlanMisfit says,
// from the plan alone, when a spec cannot be sent within a time budget
// (--max-duration, a monitor's --every), so a cut is warned of or refused
// before the first request.
//
// A Go program probes a frontend with:
//
//	spec := scenarios.Default()
//	u, _ := scenarios.ParseURL("http://lb.example/")
//	spec.URLs = []*url.URL{u}
//	res, err := pipeline.Run(ctx, spec, pipeline.Options{})
//	// res.Report.Verdict, res.Report.Summary.Stickiness, ...
package pipeline
