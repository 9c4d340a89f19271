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
// a failed request or a scenario action. The Hint of each cause names the
// HAProxy directive to check.
//
// A scenario's phases (SetPlan, Action) are reported in order with the
// sessions that first broke in each, and a switch in the phase right after
// an exec or pause phase (or a resume) is blamed on that action
// (after-action). Carry and Resume let a later process judge the same
// sessions against the pins an earlier one saw.
//
// Renderers: Table, JSON, Markdown, JUnit and HAR (the HAR reads the
// recorded events back through an EventSource, so headers never pile up in
// memory); package pipeline registers them as the formats every command
// offers. The events file codec is EventEncoder and EventDecoder (JSON
// Lines with a header and a trailer; a last line cut short by a kill is
// dropped), and Replay rebuilds a run's report, or merges several, from
// those files. The trailer keeps what the events do not give back: what
// the LB said (LBState) and the HAProxy config join (ConfigJoin), which a
// replay ties again to the causes it finds.
//
// A move off a backend that went away is judged by --on-backend-loss
// instead of as breakage. That it went away takes evidence that does not
// depend on how long the run goes on after it (loss_evidence.go): the LB's
// own word (ServerStates), the control group's misses, the departure of
// its sessions, a slow or failed move. Replay.Rejudge judges saved events
// against other thresholds.
package report
