// Package report turns a stream of probe events into a verdict on
// stickiness and renders it.
//
// Summary.Add takes one event at a time and keeps a few fixed-size fields
// per session, so memory grows with the number of sessions, never with the
// number of requests; full timelines are kept only for a bounded sample of
// broken sessions per cause. Summary.Close derives the Report once. A
// renderer is a function over an io.Writer and a *Report.
//
// Every broken session is explained with one Cause from black-box evidence
// alone: what the token did (never set, refused by the jar, held but not
// sent, sent and ignored, sent and replaced) and whether the switch followed
// a failed request. The Hint of each cause names the HAProxy directive to
// check.
package report
