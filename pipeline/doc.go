// Package pipeline runs a probe end to end the one way every command does:
// the outputs are opened before the first request, the scenario's phases
// run in order, every event goes to each consumer (Sink), and once the
// run is over the report is judged and written in every format asked for.
//
// Formats is the registry of what a report can be rendered as: each
// format's name, the flag that asks for it, whether it may go to stdout,
// and what it is rendered from (the report alone, or the recorded events
// too, as the HAR is). Commands offer exactly the formats of the registry,
// so a flag can never be accepted and then ignored.
package pipeline
