package metrics

import (
	"math"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

// Cycle turns one probe cycle's events into series: per-request counters
// and the latency histogram as events arrive, per-session counters and the
// gauges when the cycle is judged. Sessions are judged per frontend, so a
// misconfigured node among several shows on its own frontend label.
//
// A cycle keeps one report.Summary per frontend: memory is bounded by the
// cycle's sessions, and all of it is garbage once the cycle ends; only the
// cumulative counters outlive it. A session that moves between frontends
// (--frontends rotate, random) is judged whole, under the frontend of its
// first request: split over two summaries, the move that breaks it would
// be seen by neither.
type Cycle struct {
	m    *Metrics
	opts report.Options
	sums map[*front]*report.Summary
	home map[int]*front // a session's first frontend
}

// NewCycle starts a cycle judged with opts, the options of the cycle's own
// report.Summary.
func (m *Metrics) NewCycle(opts report.Options) *Cycle {
	return &Cycle{m: m, opts: opts, sums: make(map[*front]*report.Summary, 1), home: make(map[int]*front)}
}

func (c *Cycle) summary(f *front) *report.Summary {
	s, ok := c.sums[f]
	if !ok {
		s = report.NewSummary(c.opts)
		c.sums[f] = s
	}
	return s
}

// CarryPin pins a kept session, played on frontend, to the backend it was on
// at the end of the previous cycle (see report.Summary.CarryPin).
func (c *Cycle) CarryPin(session int, frontend, backend string) {
	f := c.m.front(frontend)
	c.home[session] = f
	c.summary(f).CarryPin(session, backend)
}

// Add counts one event. Events of a session must come in Seq order.
func (c *Cycle) Add(ev *probe.Event) {
	m := c.m
	f := m.front(ev.Frontend)
	f.requests.Inc()
	if ev.Failed() {
		f.errorCounter(m, ev.Error).Inc()
	}
	if ev.Error == "" || ev.Error == probe.ErrHTTP5xx {
		f.latency.Observe(ev.Latency.Seconds())
	}
	if ev.Backend != "" {
		f.backendCounter(m, ev.Backend).Inc()
	}
	home, ok := c.home[ev.Session]
	if !ok {
		home = f
		c.home[ev.Session] = f
	}
	c.summary(home).Add(ev)
}

// Close judges the cycle: rep is the cycle's overall report (the caller's
// own summary of the same events), ended the time it ended. A cycle cut
// short by a shutdown should not be closed: its requests are counted, but
// a partial cycle says nothing reliable about stickiness.
func (c *Cycle) Close(rep *report.Report, ended time.Time) {
	m := c.m
	for f, s := range c.sums {
		fr := s.Close(report.Run{})
		m.sessions.WithLabelValues(f.label, ResultSticky).Add(float64(fr.Summary.Sticky))
		m.sessions.WithLabelValues(f.label, ResultBroken).Add(float64(fr.Summary.Broken))
		m.sessions.WithLabelValues(f.label, ResultUnidentified).Add(float64(fr.Summary.Unidentified))
		m.switches.WithLabelValues(f.label).Add(float64(fr.Summary.Switches))
		m.moved.WithLabelValues(f.label).Add(float64(fr.Summary.Moved))
		for cause, n := range fr.Causes {
			m.broken.WithLabelValues(f.label, string(cause)).Add(float64(n))
		}
		stickiness := math.NaN()
		if fr.Summary.Sticky+fr.Summary.Broken > 0 && !c.opts.ExpectSpread {
			stickiness = fr.Summary.Stickiness
		}
		m.stickiness.WithLabelValues(f.label).Set(stickiness)
		seen, pinned, most := 0, 0, 0
		for _, b := range fr.Backends {
			if b.Requests > 0 {
				seen++
			}
			pinned += b.Sessions
			most = max(most, b.Sessions)
		}
		m.backendsSeen.WithLabelValues(f.label).Set(float64(seen))
		share := math.NaN()
		if pinned > 0 {
			share = float64(most) / float64(pinned)
		}
		m.maxShare.WithLabelValues(f.label).Set(share)
	}

	m.cycles.WithLabelValues(string(rep.Verdict)).Inc()
	for _, v := range Verdicts {
		on := 0.0
		if v == rep.Verdict {
			on = 1
		}
		m.verdict.WithLabelValues(string(v)).Set(on)
	}
	sensitivity := math.NaN()
	if rep.Control.Judged > 0 {
		sensitivity = rep.Control.Sensitivity
	}
	m.sensitivity.Set(sensitivity)
	m.lastDuration.Set(rep.Run.DurationS)
	m.cut.Add(float64(rep.Run.Cut))
	m.lastCycle.Set(float64(ended.UnixNano()) / 1e9)
	if rep.Verdict == report.Pass {
		m.lastSuccess.Set(float64(ended.UnixNano()) / 1e9)
	}
	m.evictBackends()
	c.sums, c.home = nil, nil
}
