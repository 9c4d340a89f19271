package report

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// writeWrapped writes text wrapped at tableWidth, the first line indented
// by first and the others by rest. Control characters are replaced.
func writeWrapped(b *bytes.Buffer, text, first, rest string) {
	indent := first
	line := 0
	for i, word := range strings.Fields(text) {
		word = clean(word)
		n := utf8.RuneCountInString(word)
		switch {
		case i == 0:
			b.WriteString(indent)
			line = utf8.RuneCountInString(indent)
		case line+1+n > tableWidth:
			b.WriteByte('\n')
			indent = rest
			b.WriteString(indent)
			line = utf8.RuneCountInString(indent)
		default:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += n
	}
	b.WriteByte('\n')
}

// pct shows a fraction as a percentage with one decimal. It never rounds
// to 100.0% what is not all, nor to 0.0% what is not none: 1999 sticky
// sessions of 2000 are 99.9%, not 100.0%.
func pct(f float64) string { return percent(f, 1) }

// pct0 is pct without decimals.
func pct0(f float64) string { return percent(f, 0) }

func percent(f float64, prec int) string {
	s := strconv.FormatFloat(100*f, 'f', prec, 64)
	if f < 1 && f > 0 {
		unit := 1.0
		for range prec {
			unit /= 10
		}
		switch v, _ := strconv.ParseFloat(s, 64); {
		case v >= 100:
			s = strconv.FormatFloat(100-unit, 'f', prec, 64)
		case v == 0:
			s = "<" + strconv.FormatFloat(unit, 'f', prec, 64)
		}
	}
	return s + "%"
}

// msText shows a latency in milliseconds, with more digits below 1 ms
// (a lab on loopback answers in a fraction of one).
func msText(v float64) string {
	switch {
	case v < 0:
		return "-"
	case v < 1:
		return strconv.FormatFloat(v, 'f', 2, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
}

// clean replaces control characters, so a name a server chose cannot
// move the cursor or color an operator's terminal.
func clean(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) && utf8.ValidString(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}

// shorten cuts s to n runes, marking the cut with an ellipsis; the JSON
// report has every value whole.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
