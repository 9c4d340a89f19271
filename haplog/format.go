package haplog

import (
	"fmt"
	"strings"
)

// DefaultFormat is the log-format `option httplog` stands for.
const DefaultFormat = `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r`

// CLFFormat is the log-format `option httplog clf` stands for; ParseFormat
// takes "clf" for it.
const CLFFormat = `%{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl`

// Format is a compiled custom `log-format`: literal text and variables,
// of which the ones a Record holds are read and the rest skipped.
type Format struct {
	items    []item
	quoteAll bool // %{+Q}o: the variables after it are quoted unless they say -Q
}

type item struct {
	lit    string // literal text; "" for a variable
	name   string // variable name: "ci", "tsc", "[...]" for a sample expression
	quoted bool   // %{+Q}: the value is in double quotes
}

// maxFormat bounds a --log-format; HAProxy's own are a few hundred bytes.
const maxFormat = 4096

// ParseFormat compiles a log-format string as it appears in haproxy.cfg
// (quotes around it and backslash-escaped spaces are accepted). It must
// contain %tsc, the termination state that carries the cookie statuses.
func ParseFormat(s string) (*Format, error) {
	if len(s) > maxFormat {
		return nil, fmt.Errorf("log-format is %d bytes, more than %d", len(s), maxFormat)
	}
	s = strings.TrimSpace(s)
	if s == "clf" {
		s = CLFFormat
	}
	s = strings.TrimPrefix(s, "log-format ")
	s = unquote(strings.TrimSpace(s))
	s = strings.ReplaceAll(s, "${HAPROXY_HTTP_LOG_FMT}", DefaultFormat)
	s = strings.NewReplacer(`\ `, " ", `\"`, `"`, `\\`, `\`).Replace(s)
	f := &Format{}
	for len(s) > 0 {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			f.lit(s)
			break
		}
		f.lit(s[:i])
		var err error
		if s, err = f.variable(s[i+1:]); err != nil {
			return nil, err
		}
	}
	if !f.has("tsc") {
		return nil, fmt.Errorf("log-format %q has no %%tsc: the cookie statuses are in the termination state", s)
	}
	return f, nil
}

func (f *Format) lit(s string) {
	if s == "" {
		return
	}
	if n := len(f.items); n > 0 && f.items[n-1].name == "" {
		f.items[n-1].lit += s
		return
	}
	f.items = append(f.items, item{lit: s})
}

// variable reads what follows a '%': "%", "{flags}name", "name" or
// "[sample expression]".
func (f *Format) variable(s string) (string, error) {
	if strings.HasPrefix(s, "%") {
		f.lit("%")
		return s[1:], nil
	}
	it := item{quoted: f.quoteAll}
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "", fmt.Errorf("log-format: %%{ without a closing brace")
		}
		flags := s[1:end]
		it.quoted = strings.Contains(flags, "+Q") || it.quoted && !strings.Contains(flags, "-Q")
		s = s[end+1:]
		if strings.HasPrefix(s, "o") && (len(s) == 1 || !isLetter(s[1])) {
			f.quoteAll = it.quoted // %o: flags for what follows, no value
			return s[1:], nil
		}
	}
	if strings.HasPrefix(s, "[") {
		end := matchingBracket(s)
		if end < 0 {
			return "", fmt.Errorf("log-format: %%[ without a closing bracket")
		}
		it.name, s = s[:end+1], s[end+1:]
		f.items = append(f.items, it)
		return s, nil
	}
	n := 0
	for n < len(s) && isLetter(s[n]) {
		n++
	}
	if n == 0 {
		return "", fmt.Errorf("log-format: '%%' not followed by a variable name")
	}
	it.name, s = s[:n], s[n:]
	f.items = append(f.items, it)
	return s, nil
}

func matchingBracket(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

func (f *Format) has(name string) bool {
	for _, it := range f.items {
		if it.name == name {
			return true
		}
	}
	return false
}

// match reads msg by the format's items into r.
func (f *Format) match(p *Parser, s string, r *Record) error {
	for i, it := range f.items {
		if it.name == "" {
			var ok bool
			if s, ok = matchLiteral(s, it.lit); !ok {
				return errLiteral
			}
			continue
		}
		var v string
		v, s = f.value(i, s)
		if err := p.set(it.name, v, r); err != nil {
			return err
		}
	}
	if r.Term == "" {
		return errFormatEnd
	}
	return nil
}

// matchLiteral consumes lit. HAProxy writes nothing, not even the
// separator, for an empty variable, so a run of spaces may be missing.
func matchLiteral(s, lit string) (string, bool) {
	if strings.HasPrefix(s, lit) {
		return s[len(lit):], true
	}
	if strings.TrimLeft(lit, " ") == "" {
		return strings.TrimLeft(s, " "), true
	}
	if t := strings.TrimLeft(lit, " "); strings.HasPrefix(s, t) {
		return s[len(t):], true
	}
	return s, false
}

// value cuts the value of item i from s: a quoted string, a brace block,
// or the text up to the next literal (the last space-free word when the
// next item is a variable too).
func (f *Format) value(i int, s string) (string, string) {
	it := f.items[i]
	if it.quoted && strings.HasPrefix(s, `"`) {
		for j := 1; j < len(s); j++ {
			if s[j] == '\\' {
				j++
			} else if s[j] == '"' {
				return s[1:j], s[j+1:]
			}
		}
		return s[1:], ""
	}
	if it.name == "hr" || it.name == "hs" {
		if !strings.HasPrefix(s, "{") {
			return "", s
		}
		if end := strings.IndexByte(s, '}'); end >= 0 {
			return s[1:end], s[end+1:]
		}
		return s[1:], ""
	}
	if i+1 == len(f.items) {
		return s, ""
	}
	next := f.items[i+1].lit
	if next == "" {
		next = " "
	}
	if it.name == "ci" && next[0] == ':' {
		// An IPv6 address has colons of its own; the port follows the last.
		word, _ := field(s)
		if j := strings.LastIndexByte(word, ':'); j >= 0 {
			return s[:j], s[j:]
		}
	}
	if j := strings.Index(s, next); j >= 0 {
		return s[:j], s[j:]
	}
	return s, "" // the literal is missing: matchLiteral says so
}

// set stores one variable's value in r; variables a Record has no field
// for are skipped.
func (p *Parser) set(name, v string, r *Record) error {
	switch name {
	case "ci":
		r.Client = v
	case "cp":
		r.Client += ":" + v
	case "t", "tr", "trg", "trl", "T", "Tl":
		t, ok := p.date(v)
		if !ok {
			return errDate
		}
		r.Time = t
	case "ft", "f":
		r.Frontend = strings.TrimSuffix(v, "~")
	case "b":
		r.Backend = v
	case "s":
		r.Server = v
	case "ST":
		n, ok := atoi(v)
		if !ok {
			return errStatus
		}
		r.Status = n
	case "tsc":
		if len(v) != 4 {
			return errTerm
		}
		r.Term = v
	case "rc":
		r.Redispatched = strings.HasPrefix(v, "+")
	case "hr":
		r.Captured = v
	case "ID":
		r.UniqueID = v
	case "r":
		r.Request = v
	}
	return nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
