package report

import (
	"fmt"
	"strconv"
)

// A saved run can be judged again against other thresholds ("what if
// strict?"): the events are the same, only the verdict's yardsticks
// change, and the report says which ones differ from the live run's.

// ThresholdChange is one threshold a re-judged report used instead of the
// live run's.
type ThresholdChange struct {
	Flag string `json:"flag"` // --on-backend-loss, --min-stickiness, ...
	Live string `json:"live"` // the live run's value
	Now  string `json:"now"`  // this report's
}

// Rejudge makes Report judge the events with the thresholds of o (its
// MinStickiness, MaxErrorRate, OnBackendLoss, MinBackends and
// MaxImbalance) instead of the first file's; the rest stays the file's.
func (rp *Replay) Rejudge(o Options) {
	live := rp.files[0].header.Options
	live.MinStickiness, live.MaxErrorRate, live.OnBackendLoss = o.MinStickiness, o.MaxErrorRate, o.OnBackendLoss
	live.MinBackends, live.MaxImbalance = o.MinBackends, o.MaxImbalance
	rp.judged = &live
}

// judgeOptions are the options the summary judges with.
func (rp *Replay) judgeOptions() Options {
	if rp.judged != nil {
		return *rp.judged
	}
	return rp.Options()
}

// ThresholdChanges lists the thresholds that differ between live and now.
func ThresholdChanges(live, now Options) []ThresholdChange {
	var out []ThresholdChange
	add := func(flag, a, b string) {
		if a != b {
			out = append(out, ThresholdChange{Flag: flag, Live: a, Now: b})
		}
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	policy := func(p LossPolicy) string {
		if p == "" {
			return string(LossFailoverStay)
		}
		return string(p)
	}
	add("--on-backend-loss", policy(live.OnBackendLoss), policy(now.OnBackendLoss))
	add("--min-stickiness", f(live.MinStickiness), f(now.MinStickiness))
	add("--max-error-rate", f(live.MaxErrorRate), f(now.MaxErrorRate))
	add("--min-backends", strconv.Itoa(live.MinBackends), strconv.Itoa(now.MinBackends))
	add("--max-imbalance", f(live.MaxImbalance), f(now.MaxImbalance))
	return out
}

// rejudgedReason is the verdict's line naming the changed thresholds.
func rejudgedReason(changes []ThresholdChange) string {
	out := "re-judged from the events file with other thresholds than the live run's:"
	for i, c := range changes {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprintf(" %s %s (live: %s)", c.Flag, c.Now, c.Live)
	}
	return out
}
