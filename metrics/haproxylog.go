package metrics

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stickyprobe/stickyprobe/haplog"
)

// HAProxyLog counts what HAProxy's own HTTP log says about real users'
// requests (`monitor --haproxy-log`), next to the probe's series, so one
// dashboard shows both. Its methods are safe for concurrent use with the
// probe's cycles: the log is read by a goroutine of its own.
type HAProxyLog struct {
	mu           sync.Mutex
	requests     *prometheus.CounterVec // backend, server, client_cookie, server_cookie
	errors       *prometheus.CounterVec // backend, server
	redispatched *prometheus.CounterVec // backend, server
	lines        *prometheus.CounterVec // kind
	changes      *prometheus.CounterVec // backend, server, state
	backCap      *labelCap
	serverCap    *labelCap
}

// cookieLabel is a status as a label value: one of the manual's letters,
// "-" (no persistence), or "other"; a fixed set, so no label grows.
func cookieLabel(c byte, known string) string {
	for i := 0; i < len(known); i++ {
		if known[i] == c {
			return known[i : i+1]
		}
	}
	return Other
}

// HAProxyLog registers the HAProxy log series in m's registry and returns
// their counter. Backend and server label values share --max-backends'
// budget each; beyond it they count as "other".
func (m *Metrics) HAProxyLog() *HAProxyLog {
	scenario := prometheus.Labels{"scenario": m.opts.Scenario}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help, ConstLabels: scenario}, labels)
		m.reg.MustRegister(v)
		return v
	}
	h := &HAProxyLog{
		requests: counter("haproxy_requests_total", "Requests in HAProxy's HTTP log (--haproxy-log), by backend, server and the termination state's "+
			"cookie statuses: client_cookie N I D V E O U - and server_cookie N I U P R D -.", "backend", "server", "client_cookie", "server_cookie"),
		errors:       counter("haproxy_request_errors_total", "Requests HAProxy logged with a 5xx status or none.", "backend", "server"),
		redispatched: counter("haproxy_redispatched_total", "Requests HAProxy logged as redispatched to another server (+ before the retries).", "backend", "server"),
		lines:        counter("haproxy_log_lines_total", "Lines read from HAProxy's log, by kind: request, message (HAProxy's own), unreadable.", "kind"),
		changes:      counter("haproxy_server_state_changes_total", "Server state changes HAProxy logged (\"Server be/s1 is DOWN\"), by state.", "backend", "server", "state"),
		backCap:      newLabelCap(m.opts.MaxBackends, 0),
		serverCap:    newLabelCap(m.opts.MaxBackends, 0),
	}
	for _, k := range []string{haplog.LineRequest, haplog.LineMessage, haplog.LineUnreadable} {
		h.lines.WithLabelValues(k)
	}
	return h
}

// Add counts one request record. Its strings may point into the reader's
// buffer, so the label values are copies: a series keeps them.
func (h *HAProxyLog) Add(r *haplog.Record) {
	h.mu.Lock()
	be, srv := h.backCap.label(strings.Clone(r.Backend)), h.serverCap.label(strings.Clone(r.Server))
	h.mu.Unlock()
	cc, sc := cookieLabel(r.ClientCookie(), haplog.ClientStatuses), cookieLabel(r.ServerCookie(), haplog.ServerStatuses)
	h.requests.WithLabelValues(be, srv, cc, sc).Inc()
	if r.Status < 0 || r.Status >= 500 {
		h.errors.WithLabelValues(be, srv).Inc()
	}
	if r.Redispatched {
		h.redispatched.WithLabelValues(be, srv).Inc()
	}
}

// Line counts one line of a kind haplog.Reader.Observe reports.
func (h *HAProxyLog) Line(kind string) {
	switch kind {
	case haplog.LineRequest, haplog.LineMessage, haplog.LineUnreadable:
		h.lines.WithLabelValues(kind).Inc()
	}
}

// Change counts one server state change.
func (h *HAProxyLog) Change(c haplog.Change) {
	h.mu.Lock()
	be, srv := h.backCap.label(c.Backend), h.serverCap.label(c.Server)
	h.mu.Unlock()
	state := c.State
	if state != "UP" && state != "DOWN" {
		state = Other
	}
	h.changes.WithLabelValues(be, srv, state).Inc()
}
