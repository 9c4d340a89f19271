package metrics

import (
	"math"
	"net/http"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
)

const namespace = "stickyprobe"

// Other is the label value that names beyond a label's cap fall into.
const Other = "other"

// Defaults of Options.
const (
	DefaultScenario     = "default"
	DefaultMaxBackends  = 32
	DefaultMaxFrontends = 16
	DefaultEvictAfter   = 60
)

// Options configure a Metrics.
type Options struct {
	// Scenario is the value of the scenario label on every series.
	Scenario string
	// MaxBackends caps the distinct backend label values; names beyond it
	// are counted under "other". Backend names come from the target (a pod
	// name, an instance id) and must not grow the series count with it.
	MaxBackends int
	// MaxFrontends caps the distinct frontend label values the same way.
	MaxFrontends int
	// EvictAfter is how many cycles a backend may go unseen before its
	// series are dropped and its slot freed, so a fleet whose backends are
	// replaced over weeks (rolling deploys) is not all counted as "other".
	EvictAfter int
	// Version is reported by stickyprobe_build_info.
	Version string
}

// Metrics holds the Prometheus series of one scenario. Counters are
// cumulative over the process's life; gauges describe the last judged
// cycle. Cycles (and New) must be driven from one goroutine; Handler and
// WriteTextfile may be called concurrently with them.
type Metrics struct {
	opts    Options
	reg     *prometheus.Registry // stickyprobe_* only: what a textfile holds
	runtime *prometheus.Registry // go_* and process_*: served over HTTP only

	cycles       *prometheus.CounterVec // verdict
	requests     *prometheus.CounterVec // frontend
	errors       *prometheus.CounterVec // frontend, kind
	backendReqs  *prometheus.CounterVec // frontend, backend
	sessions     *prometheus.CounterVec // frontend, result
	broken       *prometheus.CounterVec // frontend, cause
	switches     *prometheus.CounterVec // frontend
	moved        *prometheus.CounterVec // frontend
	latency      *prometheus.HistogramVec
	stickiness   *prometheus.GaugeVec // frontend
	backendsSeen *prometheus.GaugeVec // frontend
	maxShare     *prometheus.GaugeVec // frontend
	verdict      *prometheus.GaugeVec // verdict
	sensitivity  prometheus.Gauge
	lastDuration prometheus.Gauge
	cut          prometheus.Counter
	lastCycle    prometheus.Gauge
	lastSuccess  prometheus.Gauge

	fronts    map[string]*front // by frontend label value
	frontCap  *labelCap
	backCap   *labelCap
	judgedYet bool
}

// Verdicts are the values of the verdict label, in the order of the
// report's verdicts.
var Verdicts = []report.Verdict{report.Pass, report.Fail, report.Inconclusive, report.Error}

// Session results, the values of stickyprobe_sessions_total's result label.
const (
	ResultSticky       = "sticky"
	ResultBroken       = "broken"
	ResultUnidentified = "unidentified"
)

// errorKinds are pre-set to zero so increase() works from the first error.
var errorKinds = []probe.ErrorKind{
	probe.ErrTimeout, probe.ErrRefused, probe.ErrReset, probe.ErrEOF, probe.ErrDNS,
	probe.ErrTLS, probe.ErrProtocol, probe.ErrHTTP5xx, probe.ErrLocal, probe.ErrOther,
}

// latencyBuckets span a loopback hop (0.5 ms) to the probe's default
// request timeout (10 s).
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New creates the series of one scenario in a registry of their own.
func New(opts Options) *Metrics {
	if opts.Scenario == "" {
		opts.Scenario = DefaultScenario
	}
	if opts.MaxBackends <= 0 {
		opts.MaxBackends = DefaultMaxBackends
	}
	if opts.MaxFrontends <= 0 {
		opts.MaxFrontends = DefaultMaxFrontends
	}
	if opts.EvictAfter <= 0 {
		opts.EvictAfter = DefaultEvictAfter
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	m := &Metrics{
		opts:     opts,
		reg:      prometheus.NewRegistry(),
		runtime:  prometheus.NewRegistry(),
		fronts:   make(map[string]*front),
		frontCap: newLabelCap(opts.MaxFrontends, 0),
		backCap:  newLabelCap(opts.MaxBackends, opts.EvictAfter),
	}
	scenario := prometheus.Labels{"scenario": opts.Scenario}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help, ConstLabels: scenario}, labels)
		m.reg.MustRegister(v)
		return v
	}
	gaugeVec := func(name, help string, labels ...string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help, ConstLabels: scenario}, labels)
		m.reg.MustRegister(v)
		return v
	}
	gauge := func(name, help string) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help, ConstLabels: scenario})
		m.reg.MustRegister(g)
		return g
	}

	m.cycles = counter("cycles_total", "Probe cycles judged, by verdict (pass, fail, inconclusive, error).", "verdict")
	m.requests = counter("requests_total", "Requests sent, control sessions included.", "frontend")
	m.errors = counter("request_errors_total", "Failed requests by kind: timeout, refused, reset, eof, dns, tls, protocol, http-5xx, other; local is the probe's own machine failing (file descriptors, ports), not the target.", "frontend", "kind")
	m.backendReqs = counter("backend_requests_total", "Responses that named their backend, by backend (names beyond the cap count as \"other\").", "frontend", "backend")
	m.sessions = counter("sessions_total", "Measured sessions judged at the end of a cycle, by result: sticky, broken, unidentified.", "frontend", "result")
	m.broken = counter("broken_sessions_total", "Measured sessions that changed backend, by the cause of their first switch.", "frontend", "cause")
	m.switches = counter("switches_total", "Backend changes seen in measured sessions.", "frontend")
	m.moved = counter("moved_sessions_total", "Measured sessions moved off a backend that went away, as --on-backend-loss expects: counted as sticky, not broken.", "frontend")
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "request_duration_seconds", ConstLabels: scenario, Buckets: latencyBuckets,
		Help: "Latency of requests that got a response (5xx included), headers and body.",
	}, []string{"frontend"})
	m.reg.MustRegister(m.latency)
	m.stickiness = gaugeVec("stickiness_ratio", "Last cycle: sticky ÷ judged measured sessions (NaN when none was judged, or with --token none).", "frontend")
	m.backendsSeen = gaugeVec("backends_seen", "Last cycle: distinct backends that answered.", "frontend")
	m.maxShare = gaugeVec("backend_max_share_ratio", "Last cycle: the largest share of measured sessions pinned to one backend (1 = all on one).", "frontend")
	m.verdict = gaugeVec("verdict", "Last cycle's verdict: 1 for the verdict it had, 0 for the others.", "verdict")
	m.sensitivity = gauge("control_sensitivity_ratio", "Last cycle: control sessions (no cookies) that changed backend ÷ judged; 0 means the cycle could not have seen breakage.")
	m.cut = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "cut_requests_total", ConstLabels: scenario,
		Help: "Requests the probe cut itself at a cycle's end (its own deadline): neither errors nor the target's timeouts."})
	m.reg.MustRegister(m.cut)
	m.lastDuration = gauge("last_cycle_duration_seconds", "Duration of the last judged cycle.")
	m.lastCycle = gauge("last_cycle_timestamp_seconds", "Unix time the last judged cycle ended.")
	m.lastSuccess = gauge("last_success_timestamp_seconds", "Unix time the last cycle with verdict pass ended.")
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "build_info",
		Help: "Always 1; the version label says which stickyprobe produced the series.", ConstLabels: scenario}, []string{"version"})
	m.reg.MustRegister(info)
	info.WithLabelValues(opts.Version).Set(1)

	for _, v := range Verdicts {
		m.cycles.WithLabelValues(string(v))
		m.verdict.WithLabelValues(string(v))
	}
	m.sensitivity.Set(math.NaN())

	m.runtime.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		// The live heap after the last GC is the honest "does memory
		// grow" figure; heap_alloc includes garbage not yet collected.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)})),
	)
	return m
}

// Gatherer returns the stickyprobe_* series, without the runtime's.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Handler serves every series, the process's and Go runtime's included, in
// the Prometheus exposition format. Scrapes are bounded so a misbehaving
// scraper cannot pile up work in a probe that must stay gentle.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(prometheus.Gatherers{m.reg, m.runtime}, promhttp.HandlerOpts{
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}

// front holds the series of one frontend label, resolved once so the hot
// path does not hash label values per event.
type front struct {
	label    string
	requests prometheus.Counter
	latency  prometheus.Observer
	errors   map[probe.ErrorKind]prometheus.Counter
	backends map[string]prometheus.Counter // by backend label value
}

func (m *Metrics) front(frontend string) *front {
	label := m.frontCap.label(frontend)
	if f, ok := m.fronts[label]; ok {
		return f
	}
	f := &front{
		label:    label,
		requests: m.requests.WithLabelValues(label),
		latency:  m.latency.WithLabelValues(label),
		errors:   make(map[probe.ErrorKind]prometheus.Counter, len(errorKinds)),
		backends: make(map[string]prometheus.Counter),
	}
	for _, k := range errorKinds {
		f.errors[k] = m.errors.WithLabelValues(label, string(k))
	}
	for _, r := range []string{ResultSticky, ResultBroken, ResultUnidentified} {
		m.sessions.WithLabelValues(label, r)
	}
	for _, c := range report.Causes {
		m.broken.WithLabelValues(label, string(c))
	}
	m.switches.WithLabelValues(label)
	m.fronts[label] = f
	return f
}

func (f *front) errorCounter(m *Metrics, k probe.ErrorKind) prometheus.Counter {
	c, ok := f.errors[k]
	if !ok {
		c = m.errors.WithLabelValues(f.label, string(k))
		f.errors[k] = c
	}
	return c
}

func (f *front) backendCounter(m *Metrics, backend string) prometheus.Counter {
	label := m.backCap.label(backend)
	c, ok := f.backends[label]
	if !ok {
		c = m.backendReqs.WithLabelValues(f.label, label)
		f.backends[label] = c
	}
	return c
}

// evictBackends drops the series of backends unseen for EvictAfter cycles.
func (m *Metrics) evictBackends() {
	for _, label := range m.backCap.endCycle() {
		m.backendReqs.DeletePartialMatch(prometheus.Labels{"backend": label})
		for _, f := range m.fronts {
			delete(f.backends, label)
		}
	}
}
