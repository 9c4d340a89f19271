package monitor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/report"
)

// NewLogger is the monitor's logger on w: format "json" for one JSON
// object a line, anything else for slog's key=value text.
func NewLogger(w io.Writer, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// cycleDetails are the cycle line's attributes that only some cycles have.
func cycleDetails(res pipeline.CycleResult) []any {
	rep := res.Report
	var attrs []any
	if len(rep.Causes) > 0 {
		attrs = append(attrs, slog.Group("causes", countAttrs(rep.Causes)...))
	}
	if len(rep.Errors) > 0 {
		attrs = append(attrs, slog.Group("error_kinds", countAttrs(rep.Errors)...))
	}
	if res.Generation > 0 {
		attrs = append(attrs, "generation", res.Generation)
		if res.Renewed {
			attrs = append(attrs, "new_sessions", true)
		}
	}
	if res.LearnedToken != "" {
		attrs = append(attrs, "learned_token", res.LearnedToken)
	}
	if len(rep.Reasons) > 0 {
		attrs = append(attrs, "reason", rep.Reasons[0])
	}
	return attrs
}

// LogCycle writes the cycle's one line and, for each cause of broken
// sessions, one sampled session's timeline. Token values in timelines are
// the affinity token's only (the LB's server id): events never hold other
// cookies.
func LogCycle(log *slog.Logger, res pipeline.CycleResult, nextIn time.Duration) {
	rep := res.Report
	c := rep.Summary
	attrs := []any{
		"cycle", res.Number,
		"verdict", rep.Verdict,
		"stickiness", round3(c.Stickiness),
		"sessions", c.Sessions, "sticky", c.Sticky, "broken", c.Broken, "unidentified", c.Unidentified,
		"switches", c.Switches, "requests", c.Requests, "errors", c.Errors, "cut", rep.Run.Cut,
		"control", fmt.Sprintf("%d/%d", rep.Control.Switched, rep.Control.Judged),
		"backends", len(rep.Backends),
		"p50_ms", rep.LatencyMS.P50, "p99_ms", rep.LatencyMS.P99,
		"duration_s", rep.Run.DurationS,
	}
	attrs = append(attrs, cycleDetails(res)...)
	level := slog.LevelInfo
	switch {
	case res.Interrupted:
		log.Info("cycle interrupted: not judged", "cycle", res.Number, "requests", c.Requests, "errors", c.Errors)
		return
	case res.Unreachable:
		attrs = append(attrs, "unreachable", true)
		level = slog.LevelError
	case rep.Verdict == report.Error:
		level = slog.LevelError
	case rep.Verdict != report.Pass:
		level = slog.LevelWarn
	}
	attrs = append(attrs, "next_in", nextIn.Round(100*time.Millisecond).String())
	log.Log(context.Background(), level, "cycle", attrs...)

	seen := make(map[report.Cause]bool)
	for _, s := range rep.Samples {
		if seen[s.Cause] {
			continue // one timeline per cause per cycle keeps a long outage's log readable
		}
		seen[s.Cause] = true
		a := []any{"cycle", res.Number, "cause", s.Cause, "session", s.Session, "pin", s.Pin, "timeline", timeline(s)}
		if s.Refusal != "" {
			a = append(a, "refusal", s.Refusal)
		}
		log.Warn("broken session", a...)
	}
}

// timeline renders a sample's steps on one line.
func timeline(s *report.Sample) string {
	parts := make([]string, 0, len(s.Steps))
	for _, st := range s.Steps {
		var b strings.Builder
		fmt.Fprintf(&b, "#%d %s", st.Seq, pipeline.OrDash(st.Backend))
		switch {
		case st.Error != "" && st.Status == 0:
			fmt.Fprintf(&b, " %s", st.Error)
		default:
			fmt.Fprintf(&b, " %d", st.Status)
		}
		fmt.Fprintf(&b, " sent=%s", pipeline.OrDash(st.TokenSent))
		switch {
		case st.TokenDeleted:
			b.WriteString(" deleted")
		case st.TokenRefused != "":
			fmt.Fprintf(&b, " set=%s refused:%s", pipeline.OrDash(st.TokenSet), st.TokenRefused)
		case st.TokenSet != "":
			fmt.Fprintf(&b, " set=%s", st.TokenSet)
		}
		if st.Switch {
			b.WriteString(" switch")
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, " | ")
}

// countAttrs turns a count map into sorted slog attributes.
func countAttrs[K ~string, V int | int64](m map[K]V) []any {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	slices.Sort(keys)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, slog.Int64(k, int64(m[K(k)])))
	}
	return out
}

func round3(f float64) float64 {
	return float64(int64(f*1000+0.5)) / 1000
}
