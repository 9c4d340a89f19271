package pipeline

import "github.com/stickyprobe/stickyprobe/report"

// An Observer is the load balancer's own view of a run, read beside the
// probe's (HAProxy's Runtime API, say). The pipeline calls Attach with the
// summary before the first request, so what the LB says can be evidence
// while the run goes on (a server it reports down explains the moves off
// it); Stop once the last event is in, before the run is judged, so the
// observer can take its last reading; and Annotate with the judged report
// before any output is written, to add what the LB said.
type Observer interface {
	Attach(*report.Summary)
	Stop()
	Annotate(*report.Report)
}

// observerSinks are o's two places in the sink order: stop before the
// summary judges, annotate after it and before the outputs.
func observerSinks(o Observer) (stop, annotate Sink) {
	stop = funcSink{close: func(*Result) error { o.Stop(); return nil }}
	annotate = funcSink{close: func(res *Result) error {
		if res.Report != nil {
			o.Annotate(res.Report)
		}
		return nil
	}}
	return stop, annotate
}
