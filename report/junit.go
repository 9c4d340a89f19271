package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit writes the report as JUnit XML, one test case per check
// (stickiness, error rate, spread, control group, and backend loss when a
// backend went away) and one per scenario phase, so a CI system shows
// which check failed without parsing the table. The suite fails exactly
// when the verdict is not pass: a check that does not apply to the run
// (stickiness with --token none) is skipped.
func JUnit(w io.Writer, r *Report) error {
	if r == nil {
		r = new(Report)
	}
	name := "stickyprobe"
	if r.Run.Scenario != "" {
		name += "." + r.Run.Scenario
	}
	suite := junitSuite{Name: name, Time: r.Run.DurationS, Cases: junitCases(r, name)}
	if !r.Run.Started.IsZero() {
		suite.Timestamp = r.Run.Started.UTC().Format("2006-01-02T15:04:05")
	}
	suite.Properties = []junitProperty{
		{"verdict", string(r.Verdict)},
		{"targets", strings.Join(r.Run.Targets, " ")},
		{"seed", fmt.Sprint(r.Run.Seed)},
	}
	if r.Run.Command != "" {
		// the command that repeats this run, secrets redacted
		suite.Properties = append(suite.Properties, junitProperty{"command", clean(r.Run.Command)})
	}
	for _, c := range suite.Cases {
		suite.Tests++
		switch {
		case c.Failure != nil:
			suite.Failures++
		case c.Error != nil:
			suite.Errors++
		case c.Skipped != nil:
			suite.Skipped++
		}
	}
	all := junitSuites{Name: "stickyprobe", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitCases(r *Report, class string) []junitCase {
	c := r.Summary
	reasons := strings.Join(r.Reasons, "\n")
	spread := expectSpread(r)
	newCase := func(name string) junitCase { return junitCase{Class: class, Name: name} }

	stick := newCase("stickiness")
	judged := c.Sticky + c.Broken
	switch {
	case r.Verdict == Error:
		stick.Error = &junitResult{Type: "error", Message: firstLine(reasons), Text: reasons}
	case spread:
		stick.Skipped = &junitResult{Message: "not judged: --token none expects spread, not stickiness"}
	case judged > 0 && c.Stickiness < r.Thresholds.MinStickiness:
		msg := fmt.Sprintf("stickiness %s: %d of %d sessions changed backend (min %s)", pct(c.Stickiness), c.Broken, judged, pct(r.Thresholds.MinStickiness))
		stick.Failure = &junitResult{Type: "stickiness", Message: msg, Text: causeText(r)}
	default:
		stick.Out = fmt.Sprintf("%d of %d sessions stayed on their backend", c.Sticky, judged)
	}

	errRate := newCase("error-rate")
	if c.ErrorRate > r.Thresholds.MaxErrorRate && r.Verdict != Error {
		errRate.Failure = &junitResult{Type: "error-rate", Message: fmt.Sprintf("error rate %s (%d of %d requests) is above %s",
			pct(c.ErrorRate), c.Errors, c.Requests, pct(r.Thresholds.MaxErrorRate)), Text: countList(r.Errors)}
	} else {
		errRate.Out = fmt.Sprintf("%d errors in %d requests", c.Errors, c.Requests)
	}

	spreadCase := newCase("spread")
	var spreadFails []string
	for _, reason := range r.Reasons {
		if strings.HasPrefix(reason, "spread: ") || strings.HasPrefix(reason, "expected spread") {
			spreadFails = append(spreadFails, reason)
		}
	}
	switch {
	case r.Verdict == Error:
		spreadCase.Skipped = &junitResult{Message: "not judged: the probe could not run"}
	case len(spreadFails) > 0:
		spreadCase.Failure = &junitResult{Type: "spread", Message: firstLine(spreadFails[0]), Text: strings.Join(spreadFails, "\n")}
	case spread:
		spreadCase.Out = fmt.Sprintf("requests spread over %d backends", len(r.Backends))
	default:
		spreadCase.Out = orDash(spreadLine(r))
	}

	control := newCase("control-group")
	switch ctl := r.Control; {
	case ctl.Sessions == 0 || spread:
		control.Skipped = &junitResult{Message: "no control group, or none needed: sensitivity not measured"}
	case r.Verdict == Inconclusive:
		control.Failure = &junitResult{Type: "inconclusive", Message: fmt.Sprintf("none of the %d control sessions changed backend: the run could not have seen broken persistence", ctl.Sessions), Text: reasons}
	default:
		control.Out = fmt.Sprintf("%d of %d control sessions changed backend", ctl.Switched, ctl.Judged)
	}

	cases := []junitCase{stick, errRate, spreadCase, control}
	if lines := lossLines(r); lines != nil {
		// What the LB did when backends went away; the moves the policy
		// did not expect fail the stickiness check.
		loss := newCase("backend-loss")
		loss.Out = strings.Join(lines, "\n")
		cases = append(cases, loss)
	}
	for _, ph := range r.Phases {
		pc := newCase("phase " + ph.Name)
		a := ph.Action
		switch {
		case ph.Skipped:
			pc.Skipped = &junitResult{Message: "not reached: the run stopped before this phase"}
		case a != nil && a.Failed && !a.AllowFailure:
			pc.Failure = &junitResult{Type: "exec", Message: a.Error, Text: a.Output}
		case ph.Broken > 0 && stick.Failure != nil:
			pc.Failure = &junitResult{Type: "stickiness", Message: fmt.Sprintf("%d sessions first changed backend in this phase (%s)", ph.Broken, countList(ph.Causes))}
		default:
			pc.Out = phaseNote(ph)
		}
		if a != nil {
			pc.Time = a.DurationS
			if pc.Failure == nil && a.Output != "" {
				pc.Out = a.Output
			}
		}
		cases = append(cases, pc)
	}
	return cases
}

// causeText lists the causes of broken sessions with their hints.
func causeText(r *Report) string {
	var b strings.Builder
	for _, c := range causeOrder(r) {
		fmt.Fprintf(&b, "%s: %d sessions\n", c, r.Causes[c])
		if h := r.Hints[c]; h != "" {
			b.WriteString("  " + h + "\n")
		}
	}
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     float64      `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       float64         `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Class   string       `xml:"classname,attr"`
	Name    string       `xml:"name,attr"`
	Time    float64      `xml:"time,attr"`
	Failure *junitResult `xml:"failure,omitempty"`
	Error   *junitResult `xml:"error,omitempty"`
	Skipped *junitResult `xml:"skipped,omitempty"`
	Out     string       `xml:"system-out,omitempty"`
}

type junitResult struct {
	Type    string `xml:"type,attr,omitempty"`
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}
