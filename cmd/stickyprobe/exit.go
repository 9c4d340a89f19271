package main

import (
	"errors"
	"fmt"

	"github.com/stickyprobe/stickyprobe/report"
)

// Exit codes, as documented in the README and in --help.
const (
	exitPass         = 0
	exitFail         = 1 // stickiness or another threshold failed
	exitUsage        = 2 // bad flag, bad value, bad scenario
	exitCannotRun    = 3 // target unreachable, every request failed, nothing judged
	exitInconclusive = 4 // the control group shows the run could not have seen breakage
	exitInterrupted  = 130
)

const exitCodesHelp = `EXIT CODES:
   0    pass: every threshold held and the control group proved the run could see breakage
   1    fail: stickiness below --min-stickiness, errors above --max-error-rate, the spread
        (--min-backends, --max-imbalance), or a scenario's exec phase failed
   2    usage: a bad flag or value
   3    the probe could not run: target unreachable, every request failed, or no response named its backend
   4    inconclusive: sessions stayed put, but so did the control group (which keeps no cookies),
        so the run could not have seen broken persistence
   130  interrupted: the partial report was still written`

// exitError carries an exit code through urfave/cli without its
// HandleExitCoder, which loses wrapped codes and can skip deferred cleanup.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, format string, a ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, a...)}
}

// exitCode maps an action's error to the process exit code. Errors that
// carry no code are usage errors: the flag parser's and validation's.
func exitCode(err error) int {
	if err == nil {
		return exitPass
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}

func verdictCode(v report.Verdict) int {
	switch v {
	case report.Pass:
		return exitPass
	case report.Fail:
		return exitFail
	case report.Inconclusive:
		return exitInconclusive
	}
	return exitCannotRun
}
