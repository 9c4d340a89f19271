// Package scenarios holds the declarative description of a probe run: what to
// target, how to recognise the backend that served a response, what token
// pins a session, how much load to send and what counts as a pass.
//
// It is the contract between the command line, scenario files (Parse, Load,
// the built-in library) and the probe engine. It imports nothing of the
// project, so every other package may depend on it. Parsers here turn the
// short strings users type (`header:X-Backend`, `cookie:SERVERID`,
// `lb.example:443:127.0.0.1`) into typed values and reject anything
// ambiguous with an error that quotes the input. A scenario file's errors
// name its file, line and key; Spec.Validate, shared with the command line,
// names the flags.
package scenarios
