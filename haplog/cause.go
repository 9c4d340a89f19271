package haplog

import (
	"fmt"

	"github.com/stickyprobe/stickyprobe/report"
)

// Meaning is what a cookie status says, in stickyprobe's cause words
// where one fits: Cause is "" for statuses that are not a broken session.
type Meaning struct {
	Status byte
	Cause  report.Cause
	Text   string
}

// ClientMeaning explains the client-side status (the third character).
func ClientMeaning(c byte) Meaning {
	switch c {
	case 'N':
		return Meaning{c, report.CauseNoToken, "no cookie: a new visitor, or a client that never keeps it (its first request every time: token-refused, token-not-sent, or a server without `cookie <value>`)"}
	case 'I':
		return Meaning{c, report.CauseTokenIgnored, "cookie invalid: a value this node does not know (another LB node's cookie values, a deploy that changed them, an old or forged cookie)"}
	case 'D':
		return Meaning{c, report.CauseTokenReassigned, "pinned server down: moved to another server (or, with `option persist`, sent to the dead one)"}
	case 'V':
		return Meaning{c, "", "cookie valid: sent to the server it names (sticky)"}
	case 'E':
		return Meaning{c, report.CauseTokenReassigned, "cookie expired (`maxidle`): ignored, balanced as if new"}
	case 'O':
		return Meaning{c, report.CauseTokenReassigned, "cookie too old (`maxlife`): ignored, balanced as if new"}
	case 'U':
		return Meaning{c, "", "cookie not used: another rule chose the server (`use-server`, `force-persist`)"}
	case '-':
		return Meaning{c, "", "no cookie persistence configured for this backend"}
	}
	return Meaning{c, report.CauseUnexplained, fmt.Sprintf("status %q is not in HAProxy's manual", c)}
}

// ServerMeaning explains the server-side status (the fourth character).
func ServerMeaning(c byte) Meaning {
	switch c {
	case 'N':
		return Meaning{c, "", "no cookie set on the response"}
	case 'I':
		return Meaning{c, "", "HAProxy inserted the cookie (a new pin, or a re-pin after a move)"}
	case 'U':
		return Meaning{c, "", "HAProxy updated the cookie's date (`maxidle`)"}
	case 'P':
		return Meaning{c, "", "the server provided the cookie, passed as is"}
	case 'R':
		return Meaning{c, "", "HAProxy rewrote the server's cookie (`cookie rewrite`, `cookie prefix`)"}
	case 'D':
		return Meaning{c, "", "HAProxy deleted the server's cookie"}
	case '-':
		return Meaning{c, "", "no cookie persistence configured for this backend"}
	}
	return Meaning{c, report.CauseUnexplained, fmt.Sprintf("status %q is not in HAProxy's manual", c)}
}

// Thresholds are what Judge holds the log to, as `run` holds a probe.
type Thresholds struct {
	MinStickiness float64 // of requests that brought a cookie back, the share HAProxy honoured (V)
	MaxErrorRate  float64 // share of requests with a 5xx or no status
}

// Judgement is the log's verdict and why.
type Judgement struct {
	Verdict    report.Verdict
	Reasons    []string
	Returning  int64   // requests that brought a cookie back: V, I, D, E, O
	Kept       int64   // of those, V
	Stickiness float64 // Kept/Returning; 0 when Returning is 0
	ErrorRate  float64
}

// Judge gives the verdict on s: error when no request was read,
// inconclusive when no request brought a persistence cookie back (the log
// cannot show whether persistence holds), fail when a threshold is missed.
func Judge(s *Stats, th Thresholds) Judgement {
	t := &s.Total
	j := Judgement{}
	if t.Requests == 0 {
		j.Verdict, j.Reasons = report.Error, []string{"no request line was read"}
		return j
	}
	j.Kept = t.ByClient('V')
	j.Returning = j.Kept + t.ByClient('I') + t.ByClient('D') + t.ByClient('E') + t.ByClient('O')
	j.ErrorRate = float64(t.Errors) / float64(t.Requests)
	if j.Returning == 0 {
		j.Verdict = report.Inconclusive
		j.Reasons = []string{fmt.Sprintf("none of the %d requests brought a persistence cookie back "+
			"(%d without one, %d on backends without cookie persistence), so the log cannot show whether persistence holds",
			t.Requests, t.ByClient('N'), t.ByClient('-'))}
		return j
	}
	j.Stickiness = float64(j.Kept) / float64(j.Returning)
	j.Verdict = report.Pass
	if j.Stickiness < th.MinStickiness {
		j.Verdict = report.Fail
		j.Reasons = append(j.Reasons, fmt.Sprintf("stickiness %.1f%% (%d of %d requests with a cookie kept their server) is below --min-stickiness %.1f%%",
			100*j.Stickiness, j.Kept, j.Returning, 100*th.MinStickiness))
	}
	if j.ErrorRate > th.MaxErrorRate {
		j.Verdict = report.Fail
		j.Reasons = append(j.Reasons, fmt.Sprintf("error rate %.2f%% (%d of %d requests) is above --max-error-rate %.2f%%",
			100*j.ErrorRate, t.Errors, t.Requests, 100*th.MaxErrorRate))
	}
	if j.Verdict == report.Pass {
		j.Reasons = []string{fmt.Sprintf("stickiness %.1f%% (%d of %d requests with a cookie kept their server), error rate %.2f%%",
			100*j.Stickiness, j.Kept, j.Returning, 100*j.ErrorRate)}
	}
	return j
}
