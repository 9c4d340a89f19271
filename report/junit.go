package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// JUnit writes the report as JUnit XML, for CI systems that show test
// results: one test case per question the verdict answers (stickiness,
// errors, the control group's sensitivity), each failed with the reasons,
// and the table report as the suite's output.
func JUnit(w io.Writer, r *Report) error {
	if r == nil {
		r = new(Report)
	}
	c := r.Summary
	secs := strconv.FormatFloat(r.Run.DurationS, 'f', 3, 64)
	stick := junitCase{Name: "stickiness", Classname: "stickyprobe", Time: secs}
	errs := junitCase{Name: "error rate", Classname: "stickyprobe", Time: secs}
	sens := junitCase{Name: "control group sensitivity", Classname: "stickyprobe", Time: secs}
	// clean: CDATA is written as is, and XML forbids control characters;
	// a reason may quote a backend name a server chose.
	reasons := cleanLines(strings.Join(r.Reasons, "\n"))
	switch r.Verdict {
	case Error:
		stick.Error = &junitResult{Message: firstLine(reasons), Type: string(Error), Text: reasons}
	case Fail:
		if c.Sticky+c.Broken > 0 && c.Stickiness < r.Thresholds.MinStickiness || expectSpread(r) && len(r.Backends) < 2 {
			stick.Failure = &junitResult{Message: stickinessLine(r), Type: string(Fail), Text: reasons + "\n\n" + cleanLines(causeText(r))}
		}
		if c.ErrorRate > r.Thresholds.MaxErrorRate {
			errs.Failure = &junitResult{Message: fmt.Sprintf("error rate %s (%d of %d requests)", pct(c.ErrorRate), c.Errors, c.Requests),
				Type: string(Fail), Text: "errors by kind: " + countList(r.Errors)}
		}
		if stick.Failure == nil && errs.Failure == nil {
			stick.Failure = &junitResult{Message: firstLine(reasons), Type: string(Fail), Text: reasons}
		}
	case Inconclusive:
		sens.Failure = &junitResult{Message: "inconclusive: " + sensitivityLine(r), Type: string(Inconclusive), Text: reasons}
	}
	if r.Control.Sessions == 0 && r.Verdict != Error {
		sens.Skipped = &junitResult{Message: "no control group (--control 0)"}
	}
	suite := junitSuite{Name: "stickyprobe " + strings.Join(r.Run.Targets, " "), Time: secs, Cases: []junitCase{stick, errs, sens}}
	if !r.Run.Started.IsZero() {
		suite.Timestamp = r.Run.Started.UTC().Format("2006-01-02T15:04:05")
	}
	props := [][2]string{{"verdict", string(r.Verdict)}, {"seed", strconv.FormatUint(r.Run.Seed, 10)},
		{"token", tokenText(r.Run)}, {"identify", r.Run.Identify}, {"conn", r.Run.Conn}}
	if r.Run.Command != "" {
		props = append(props, [2]string{"command", r.Run.Command})
	}
	for _, p := range props {
		suite.Properties = append(suite.Properties, junitProperty{Name: p[0], Value: clean(p[1])})
	}
	for _, tc := range suite.Cases {
		suite.Tests++
		switch {
		case tc.Failure != nil:
			suite.Failures++
		case tc.Error != nil:
			suite.Errors++
		case tc.Skipped != nil:
			suite.Skipped++
		}
	}
	var table bytes.Buffer
	if err := Table(&table, r); err != nil {
		return err
	}
	suite.SystemOut = cdata{table.String()} // control characters were replaced by Table
	all := junitSuites{Name: "stickyprobe", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Skipped: suite.Skipped, Time: secs, Suites: []junitSuite{suite}}
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

// cleanLines is clean for each line of s, keeping the newlines.
func cleanLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = clean(l)
	}
	return strings.Join(lines, "\n")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func stickinessLine(r *Report) string {
	c := r.Summary
	if expectSpread(r) {
		return "expected spread over several backends"
	}
	return fmt.Sprintf("stickiness %s: %d of %d sessions changed backend", pct(c.Stickiness), c.Broken, c.Sticky+c.Broken)
}

// causeText lists the causes with their hints, as plain text.
func causeText(r *Report) string {
	var b strings.Builder
	for _, c := range causeOrder(r) {
		fmt.Fprintf(&b, "%s (%d broken)\n", c, r.Causes[c])
		if h := r.Hints[c]; h != "" {
			fmt.Fprintf(&b, "  hint: %s\n", h)
		}
	}
	return b.String()
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  cdata           `xml:"system-out"`
}

type cdata struct {
	Text string `xml:",cdata"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string       `xml:"name,attr"`
	Classname string       `xml:"classname,attr"`
	Time      string       `xml:"time,attr"`
	Failure   *junitResult `xml:"failure,omitempty"`
	Error     *junitResult `xml:"error,omitempty"`
	Skipped   *junitResult `xml:"skipped,omitempty"`
}

type junitResult struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"` // CDATA keeps newlines readable
}
