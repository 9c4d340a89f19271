package hacheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Schema names the version of the JSON output. Fields are only added
// within a version.
const Schema = "stickyprobe.check-config/v1"

// Result is what check-config prints.
type Result struct {
	Schema   string    `json:"schema"`
	Files    []string  `json:"files"`
	HAProxy  string    `json:"haproxy,omitempty"`         // the binary that ran `haproxy -c`
	NoCheck  string    `json:"haproxy_not_run,omitempty"` // why `haproxy -c` did not run
	Findings []Finding `json:"findings"`
	Silenced int       `json:"silenced"`
	Worst    Severity  `json:"worst,omitempty"`
}

// JSON writes the result, indented.
func JSON(w io.Writer, r *Result) error {
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// lineWidth is the width details are wrapped to, as the report's.
const lineWidth = 100

// Table writes the findings as a table with one numbered paragraph each
// (problem and fix) below it. It is written in one Write.
func Table(w io.Writer, r *Result) error {
	var b bytes.Buffer
	if len(r.Findings) == 0 {
		fmt.Fprintf(&b, "no persistence problem found in %s", strings.Join(r.Files, ", "))
	} else {
		t := tablewriter.NewTable(&b, tablewriter.WithHeaderAutoFormat(tw.Off),
			tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft}),
			tablewriter.WithRowAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft}))
		t.Header("#", "where", "severity", "id", "backend", "cause")
		for i, f := range r.Findings {
			cause := string(f.Cause)
			if cause == "" {
				cause = "-"
			}
			if err := t.Append([]string{strconv.Itoa(i + 1), clean(f.Pos()), string(f.Severity), f.ID, orDash(clean(f.Backend)), cause}); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		for i, f := range r.Findings {
			b.WriteByte('\n')
			src := ""
			if f.Source == SourceHAProxy {
				src = "haproxy -c: "
			}
			wrap(&b, fmt.Sprintf("%d. %s%s.", i+1, src, f.Problem), "", "   ")
			if f.Fix != "" {
				wrap(&b, "fix: "+f.Fix, "   ", "     ")
			}
		}
	}
	writeFooter(&b, r)
	_, err := w.Write(b.Bytes())
	return err
}

func writeFooter(b *bytes.Buffer, r *Result) {
	b.WriteByte('\n')
	if r.Silenced > 0 {
		fmt.Fprintf(b, "%d finding(s) silenced with --ignore\n", r.Silenced)
	}
	switch {
	case r.HAProxy != "":
		fmt.Fprintf(b, "haproxy -c: ran %s on each file; its messages are the rows from \"haproxy -c\"\n", clean(r.HAProxy))
	case r.NoCheck != "":
		wrap(b, "haproxy -c: not run ("+r.NoCheck+"); only stickyprobe's own checks", "", "  ")
	}
	if len(r.Findings) > 0 {
		fmt.Fprintln(b, "silence one with --ignore ID or --ignore ID@BACKEND")
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clean keeps a config's bytes from steering the terminal: control and
// invalid characters become '?'.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// wrap writes text wrapped at lineWidth, first and rest as indents.
func wrap(b *bytes.Buffer, text, first, rest string) {
	line := 0
	for i, word := range strings.Fields(clean(text)) {
		n := utf8.RuneCountInString(word)
		switch {
		case i == 0:
			b.WriteString(first)
			line = len(first)
		case line+1+n > lineWidth:
			b.WriteString("\n" + rest)
			line = len(rest)
		default:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += n
	}
	b.WriteByte('\n')
}
