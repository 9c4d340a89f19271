package report

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
)

// Schema names the version of the JSON report. Fields are only added
// within a version.
const Schema = "stickyprobe.report/v1"

// Verdict is the outcome of a run.
type Verdict string

const (
	Pass         Verdict = "pass"
	Fail         Verdict = "fail"
	Inconclusive Verdict = "inconclusive" // the run could not have seen breakage
	Error        Verdict = "error"        // the probe could not run
)

// Run describes how the run was made; the caller fills it in.
type Run struct {
	Scenario  string    `json:"scenario,omitempty"` // the scenario's name, for `scenario run`
	Targets   []string  `json:"targets"`
	Identify  string    `json:"identify"`
	Token     string    `json:"token"`
	TokenName string    `json:"token_name,omitempty"` // learned or given cookie name
	Conn      string    `json:"conn"`
	Seed      uint64    `json:"seed"`
	Started   time.Time `json:"started"`
	DurationS float64   `json:"duration_s"`
	// The topology settings, when not the plain default.
	Frontends       string `json:"frontends,omitempty"`         // --frontends, with several frontends
	SourceIPs       string `json:"source_ips,omitempty"`        // --source-ips
	SourceMoveAfter int    `json:"source_move_after,omitempty"` // --source-move-after
	Burst           int    `json:"burst,omitempty"`             // --burst
	HTTP2           bool   `json:"http2,omitempty"`             // --http2
	Interrupted     bool   `json:"interrupted,omitempty"`       // stopped by the user: the report is partial
	Truncated       bool   `json:"truncated,omitempty"`         // stopped by --max-duration
	// Cut counts requests the probe cut itself (in flight at --max-duration,
	// at a monitor cycle's end, at Ctrl-C): their answer is not known, so
	// they are no error, no cause, and not in --max-error-rate.
	Cut int64 `json:"cut_requests,omitempty"`
	// Command repeats the run: the command line with the seed used and
	// secrets redacted.
	Command string `json:"command,omitempty"`
	// Vantages are the runs a merged report is made of (stickyprobe
	// report a.jsonl b.jsonl), one per events file.
	Vantages []Vantage `json:"vantages,omitempty"`
	// LB is the load balancer the hints speak of (--lb, or detected).
	LB *LB `json:"lb,omitempty"`
}

// Report is a closed summary: everything renderers need.
type Report struct {
	Schema     string                    `json:"schema"`
	Verdict    Verdict                   `json:"verdict"`
	Reasons    []string                  `json:"reasons"`
	Run        Run                       `json:"run"`
	Summary    Counts                    `json:"summary"`
	Control    Control                   `json:"control"`
	Causes     map[Cause]int             `json:"causes"`
	Hints      map[Cause]string          `json:"hints,omitempty"`
	Refusals   map[probe.Refusal]int     `json:"refusals,omitempty"`
	Backends   map[string]Backend        `json:"backends"`
	Errors     map[probe.ErrorKind]int64 `json:"errors"`
	Thresholds Thresholds                `json:"thresholds"`
	LatencyMS  Latency                   `json:"latency_ms"`
	Samples    []*Sample                 `json:"samples"`
	Phases     []Phase                   `json:"phases,omitempty"` // a scenario's phases, in order
	Spread     Spread                    `json:"spread"`
	// Frontends is the node × backend matrix: requests per frontend (LB
	// node) and the backends that answered them.
	Frontends   map[string]Frontend `json:"frontends"`
	BackendLoss *BackendLoss        `json:"backend_loss,omitempty"` // backends that went away, and the sessions moved off them
	Notes       *Notes              `json:"notes,omitempty"`        // error reasons, the probe's own errors, redirects
	LBState     *LBState            `json:"lb_state,omitempty"`     // what the LB itself said (--haproxy-socket), lbstate.go
	// Rejudged lists the thresholds `stickyprobe report` judged the saved
	// events with instead of the live run's.
	Rejudged []ThresholdChange `json:"rejudged,omitempty"`
	// HAProxyConfig is what the HAProxy config given to the run says
	// (run --haproxy-config); nil without one.
	HAProxyConfig *HAProxyConfig `json:"haproxy_config,omitempty"`
}

// Counts are about the measured sessions; requests and errors count every
// request the probe sent, control group included.
type Counts struct {
	Sessions     int     `json:"sessions"`
	Sticky       int     `json:"sticky_sessions"`
	Broken       int     `json:"broken_sessions"`
	Unidentified int     `json:"unidentified_sessions"` // fewer than two responses named a backend
	Stickiness   float64 `json:"stickiness"`            // sticky ÷ (sticky + broken)
	Requests     int64   `json:"requests"`
	Errors       int64   `json:"errors"`
	ErrorRate    float64 `json:"error_rate"`
	Switches     int64   `json:"switches"`
	// Moved counts sticky sessions that changed backend as
	// --on-backend-loss expects, after their backend went away.
	Moved int `json:"moved_sessions"`
}

// Control is the control group's result: how sensitive the run was.
type Control struct {
	Sessions    int     `json:"sessions"`
	Judged      int     `json:"judged"`
	Switched    int     `json:"switched"`
	Sensitivity float64 `json:"sensitivity"` // switched ÷ judged: the chance an unpinned session was caught
}

// Backend counts sessions pinned to a backend and requests it served.
type Backend struct {
	Sessions int   `json:"sessions"`
	Requests int64 `json:"requests"`
}

// Thresholds the verdict was judged against.
type Thresholds struct {
	MinStickiness float64    `json:"min_stickiness"`
	MaxErrorRate  float64    `json:"max_error_rate"`
	MinBackends   int        `json:"min_backends"`  // -1: automatic
	MaxImbalance  float64    `json:"max_imbalance"` // 0: no check
	OnBackendLoss LossPolicy `json:"on_backend_loss"`
}

// Latency percentiles in milliseconds, over requests that got a response.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// Close derives the report. run is copied into it as given, with the token
// name filled in if the summary learned it.
func (s *Summary) Close(run Run) *Report {
	if run.TokenName == "" {
		run.TokenName = s.tokenName
	}
	r := &Report{
		Schema:   Schema,
		Run:      run,
		Causes:   make(map[Cause]int),
		Hints:    make(map[Cause]string),
		Refusals: make(map[probe.Refusal]int),
		Backends: make(map[string]Backend),
		Errors:   make(map[probe.ErrorKind]int64, len(s.errKinds)),
		Thresholds: Thresholds{MinStickiness: s.opts.MinStickiness, MaxErrorRate: s.opts.MaxErrorRate,
			MinBackends: s.opts.MinBackends, MaxImbalance: s.opts.MaxImbalance, OnBackendLoss: s.lossPolicy()},
		LatencyMS: Latency{
			P50: ms(s.latency.quantile(0.50)), P90: ms(s.latency.quantile(0.90)),
			P99: ms(s.latency.quantile(0.99)), Max: ms(s.latency.max),
		},
	}
	for k, v := range s.errKinds {
		r.Errors[k] = v
	}
	for i, name := range s.names {
		b := r.Backends[name]
		b.Requests = s.backendRq[i]
		r.Backends[name] = b
	}
	c := &r.Summary
	if !s.closed {
		s.closeLossTracker()
	}
	s.eachState(func(st *sessionState) {
		if !st.seen {
			return
		}
		judged := st.identified >= 2
		if st.control {
			r.Control.Sessions++
			if judged {
				r.Control.Judged++
			}
			if st.switches > 0 {
				r.Control.Switched++
			}
			return
		}
		c.Sessions++
		c.Switches += int64(st.switches)
		if st.pin >= 0 {
			b := r.Backends[s.names[st.pin]]
			b.Sessions++
			r.Backends[s.names[st.pin]] = b
		}
		if st.verdict == verdictOpen {
			s.judge(st)
		}
		switch st.verdict {
		case verdictUnjudged:
			c.Unidentified++
		case verdictBroken:
			c.Broken++
			cause := Causes[st.cause]
			r.Causes[cause]++
			r.Hints[cause] = cause.Hint()
			if cause == CauseTokenRefused && st.refused >= 0 {
				r.Refusals[probe.Refusal(s.refusals[st.refused])]++
			}
		default: // sticky, or moved as --on-backend-loss expects
			c.Sticky++
		}
	})
	s.closed = true
	r.Samples = s.closeSamples()
	r.BackendLoss = s.closeLoss(s.lastEnd)
	if r.BackendLoss != nil {
		c.Moved = r.BackendLoss.Moved
	}
	s.closeFrontends(r)
	if judged := c.Sticky + c.Broken; judged > 0 {
		c.Stickiness = float64(c.Sticky) / float64(judged)
	}
	c.Requests, c.Errors = s.requests, s.errors
	if c.Requests > 0 {
		c.ErrorRate = float64(c.Errors) / float64(c.Requests)
	}
	if r.Control.Judged > 0 {
		r.Control.Sensitivity = float64(r.Control.Switched) / float64(r.Control.Judged)
	}
	r.Spread = closeSpread(r, s.opts.ExpectSpread)
	s.closePhases(r)
	r.Verdict, r.Reasons = s.verdict(r)
	s.closeNotes(r)
	if run.LB != nil {
		r.SetLB(*run.LB) // before the refusal details are added to the hint
	}
	addRefusalHints(r)
	return r
}

func (s *Summary) lossPolicy() LossPolicy {
	if s.opts.OnBackendLoss == "" {
		return LossFailoverStay
	}
	return s.opts.OnBackendLoss
}

// verdict judges the report against the thresholds. A failure outranks
// inconclusive: a switch seen is proof, whatever the control group did.
func (s *Summary) verdict(r *Report) (Verdict, []string) {
	c := r.Summary
	switch {
	case c.Requests == 0:
		return Error, []string{"no request completed"}
	case c.Errors == c.Requests:
		return Error, []string{fmt.Sprintf("every request failed (%s)", topErrors(r.Errors))}
	}
	fails, notes := actionFailures(r)
	if c.ErrorRate > s.opts.MaxErrorRate {
		fails = append(fails, fmt.Sprintf("error rate %.2f%% (%d of %d requests: %s) is above --max-error-rate %.2f%%",
			100*c.ErrorRate, c.Errors, c.Requests, topErrors(r.Errors), 100*s.opts.MaxErrorRate))
	}
	if s.opts.ExpectSpread {
		if len(r.Backends) == 0 {
			return Error, append(fails, "no response named a backend, so spread could not be judged (set --id to where the backend's name is)")
		}
		if len(r.Backends) < 2 {
			fails = append(fails, fmt.Sprintf("expected spread over several backends, but every identified response came from %s", oneBackend(r.Backends)))
		} else if s.opts.MinBackends > 0 || s.opts.MaxImbalance > 0 {
			fails = append(fails, s.spreadFailures(r, int(c.Requests), "requests")...)
		}
		if len(fails) > 0 {
			return Fail, fails
		}
		return Pass, []string{fmt.Sprintf("requests spread over %d backends", len(r.Backends))}
	}
	if c.Sticky+c.Broken == 0 {
		if r.Run.Truncated || r.Run.Interrupted || r.Run.Cut > 0 {
			return Error, append(fails, cutReason(r))
		}
		return Error, append(fails, "no session could be judged: fewer than two responses per session named a backend (set --id to where the backend's name is)")
	}
	if c.Stickiness < s.opts.MinStickiness {
		fails = append(fails, fmt.Sprintf("stickiness %.1f%%: %d of %d sessions changed backend (--min-stickiness %.1f%%)",
			100*c.Stickiness, c.Broken, c.Sticky+c.Broken, 100*s.opts.MinStickiness))
	}
	fails = append(fails, s.spreadFailures(r, c.Sticky+c.Broken, "sessions")...)
	if c.Moved > 0 {
		notes = append(notes, fmt.Sprintf("%d moved off a backend that went away, as --on-backend-loss %s expects", c.Moved, s.lossPolicy()))
	}
	if len(fails) > 0 {
		return Fail, append(fails, notes...)
	}
	ok := fmt.Sprintf("%d of %d sessions stayed on their backend", c.Sticky, c.Sticky+c.Broken)
	if len(notes) > 0 {
		ok += "; " + strings.Join(notes, "; ")
	}
	switch {
	case r.Control.Sessions == 0:
		return Pass, []string{ok, "no control group (--control 0): the run's sensitivity was not measured"}
	case r.Control.Switched == 0:
		return Inconclusive, []string{ok, fmt.Sprintf("but none of the %d control sessions (which keep no cookies) changed backend either, "+
			"so this run could not have seen broken persistence: one backend up, connection reuse (--conn), "+
			"or source-address hashing", r.Control.Sessions)}
	}
	without := "without cookies"
	if s.opts.SourceToken {
		without = "moving to a new source address every request"
	}
	return Pass, []string{ok, fmt.Sprintf("%d of %d control sessions %s changed backend, so breakage would have shown",
		r.Control.Switched, r.Control.Judged, without)}
}

// cutReason explains a run that judged nobody because it was cut: the
// sessions did not get the two responses a judgement needs.
func cutReason(r *Report) string {
	why := "at --max-duration, or a monitor's --every"
	if r.Run.Interrupted {
		why = "interrupted"
	}
	return fmt.Sprintf("no session could be judged: the run was cut (%s) before sessions got two responses naming a backend; "+
		"give the plan the time it needs (--max-duration, --every, --rate) or send fewer requests (--sessions, --requests)", why)
}

// cutLine says how many requests the probe cut itself.
func cutLine(n int64) string {
	return fmt.Sprintf("cut: %d request%s in flight when the probe stopped %s (its deadline, a cycle's end, a signal); "+
		"not errors, not in --max-error-rate", n, plural(int(n)), map[bool]string{true: "them", false: "it"}[n > 1])
}

func topErrors(m map[probe.ErrorKind]int64) string {
	type kv struct {
		k probe.ErrorKind
		v int64
	}
	var list []kv
	for k, v := range m {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v || list[i].v == list[j].v && list[i].k < list[j].k })
	out := ""
	for i, e := range list {
		if i == 3 {
			break
		}
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%d %s", e.v, e.k)
	}
	return out
}

func oneBackend(m map[string]Backend) string {
	for k := range m {
		return k
	}
	return "no backend (none identified)"
}
