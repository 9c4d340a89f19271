package hacfg

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Options shape how conditions and variables are resolved.
type Options struct {
	// Env finds an environment variable; nil means os.LookupEnv.
	Env func(name string) (string, bool)
	// Version is the HAProxy version version_atleast and version_before
	// compare with; "" means DefaultVersion.
	Version string
	// Features are the names feature() finds (as `haproxy -vv` lists them
	// after a '+'); nil means none.
	Features []string
}

// DefaultVersion is the HAProxy version conditions are evaluated for when
// Options.Version is empty: the one the lab runs.
const DefaultVersion = "2.6.12"

// MaxSize bounds the file a Parse reads: a config is a few kilobytes, and
// a huge input is a mistake (a binary, a log) better refused than read.
const MaxSize = 16 << 20

// Line is one directive: its words after quoting, escapes and expansion.
type Line struct {
	File string
	Num  int
	Args []string
}

// Pos is "file:line", the way HAProxy names a place in its messages.
func (l Line) Pos() string { return l.File + ":" + strconv.Itoa(l.Num) }

// Keyword is the directive's first word ("" for none).
func (l Line) Keyword() string {
	if len(l.Args) == 0 {
		return ""
	}
	return l.Args[0]
}

// Section is one section with its directives. For a proxy (frontend,
// backend, listen), Defaults is the defaults section it inherits from:
// the one named by `from`, else the last one before it. A defaults
// section inherits only from the one its `from` names.
type Section struct {
	Kind     string // "global", "defaults", "frontend", "backend", "listen", "peers", ...
	Name     string // "" for global and an unnamed defaults
	From     string // the `from` argument, if any
	Header   Line   // the line that opened the section
	Lines    []Line // its directives, in order
	Defaults *Section
}

// IsProxy reports whether the section carries traffic settings.
func (s *Section) IsProxy() bool {
	return s.Kind == "frontend" || s.Kind == "backend" || s.Kind == "listen"
}

// Config is one parsed file.
type Config struct {
	File     string
	Sections []*Section
}

// Error is a file that HAProxy would refuse to read, at a line.
type Error struct {
	File string
	Line int // 0: the file as a whole
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// sectionKinds are HAProxy 2.6's section keywords.
var sectionKinds = map[string]bool{
	"global": true, "defaults": true, "frontend": true, "backend": true, "listen": true,
	"peers": true, "resolvers": true, "userlist": true, "mailers": true, "program": true,
	"http-errors": true, "ring": true, "cache": true, "fcgi-app": true, "log-forward": true,
}

// ParseFile reads and parses one file.
func ParseFile(path string, opts Options) (*Config, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &Error{File: path, Msg: strings.TrimPrefix(err.Error(), "stat "+path+": ")}
	}
	if st.IsDir() {
		return nil, &Error{File: path, Msg: "is a directory; give the files in it"}
	}
	if st.Size() > MaxSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("%d bytes: larger than any config (%d at most)", st.Size(), MaxSize)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: strings.TrimPrefix(err.Error(), "open "+path+": ")}
	}
	return Parse(path, data, opts)
}

// Parse parses a config read from file name. Errors are *Error.
func Parse(name string, data []byte, opts Options) (*Config, error) {
	if len(data) > MaxSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("%d bytes: larger than any config (%d at most)", len(data), MaxSize)}
	}
	p := &parser{cfg: &Config{File: name}, opts: opts}
	p.env = opts.Env
	if p.env == nil {
		p.env = os.LookupEnv
	}
	for i, raw := range bytes.Split(data, []byte("\n")) {
		if err := p.line(i+1, string(raw)); err != nil {
			return nil, err
		}
	}
	if len(p.conds) > 0 {
		return nil, p.errorf(p.conds[len(p.conds)-1].line, "'.if' is never closed by '.endif'")
	}
	return p.cfg, nil
}

type parser struct {
	cfg      *Config
	opts     Options
	env      lookupFunc
	cur      *Section
	defaults *Section // the last defaults section seen
	conds    []cond
}

func (p *parser) errorf(line int, format string, a ...any) *Error {
	return &Error{File: p.cfg.File, Line: line, Msg: fmt.Sprintf(format, a...)}
}

// lookup answers variables, with the pseudo-variables of this line.
func (p *parser) lookup(num int) lookupFunc {
	return func(name string) (string, bool) {
		switch name {
		case ".FILE":
			return p.cfg.File, true
		case ".LINE":
			return strconv.Itoa(num), true
		case ".SECTION":
			if p.cur == nil {
				return "", true
			}
			if p.cur.Name == "" {
				return p.cur.Kind, true
			}
			return p.cur.Name, true
		}
		return p.env(name)
	}
}

func (p *parser) line(num int, raw string) error {
	if strings.IndexByte(raw, 0) >= 0 {
		return p.errorf(num, "NUL byte: not a text file")
	}
	words, err := splitWords(raw, p.lookup(num))
	if err != nil {
		return p.errorf(num, "%v", err)
	}
	if len(words) == 0 {
		return nil
	}
	l := Line{File: p.cfg.File, Num: num, Args: words}
	if strings.HasPrefix(words[0], ".") {
		if handled, err := p.directive(l); handled || err != nil {
			return err
		}
	}
	if !p.active() {
		return nil
	}
	if sectionKinds[words[0]] {
		return p.section(l)
	}
	if p.cur == nil {
		return p.errorf(num, "'%s' is outside any section", words[0])
	}
	p.cur.Lines = append(p.cur.Lines, l)
	return nil
}

// section opens a new section at l.
func (p *parser) section(l Line) error {
	s := &Section{Kind: l.Args[0], Header: l}
	rest := l.Args[1:]
	if len(rest) > 0 && rest[0] != "from" {
		s.Name, rest = rest[0], rest[1:]
	}
	switch {
	case len(rest) >= 2 && rest[0] == "from":
		s.From = rest[1]
		if len(rest) > 2 {
			return p.errorf(l.Num, "unexpected '%s' after 'from %s'", rest[2], s.From)
		}
	case len(rest) == 1 && rest[0] == "from":
		return p.errorf(l.Num, "'from' needs the name of a defaults section")
	}
	if s.IsProxy() && s.Name == "" {
		return p.errorf(l.Num, "'%s' needs a name", s.Kind)
	}
	if s.From != "" && s.Kind != "defaults" && !s.IsProxy() {
		return p.errorf(l.Num, "'from' only applies to defaults and proxies, not to '%s'", s.Kind)
	}
	if s.IsProxy() || s.Kind == "defaults" {
		// A defaults section without `from` starts afresh: measured on
		// HAProxy 2.6.12, a backend after `defaults a` (mode http) and an
		// unnamed `defaults` is in mode tcp.
		if s.IsProxy() {
			s.Defaults = p.defaults
		}
		if s.From != "" {
			d := p.cfg.namedDefaults(s.From)
			if d == nil {
				return p.errorf(l.Num, "'from %s': no defaults section of that name before this line", s.From)
			}
			s.Defaults = d
		}
	}
	if s.Kind == "defaults" {
		p.defaults = s
	}
	p.cfg.Sections = append(p.cfg.Sections, s)
	p.cur = s
	return nil
}

func (c *Config) namedDefaults(name string) *Section {
	var found *Section
	for _, s := range c.Sections {
		if s.Kind == "defaults" && s.Name == name {
			found = s // the last one of that name before here
		}
	}
	return found
}

// Proxies returns the frontend, backend and listen sections in order.
func (c *Config) Proxies() []*Section {
	var out []*Section
	for _, s := range c.Sections {
		if s.IsProxy() {
			out = append(out, s)
		}
	}
	return out
}

// Find returns the section of that kind and name, or nil. For "backend"
// a listen section of that name is found too: both carry servers.
func (c *Config) Find(kind, name string) *Section {
	for _, s := range c.Sections {
		if s.Name == name && (s.Kind == kind || kind == "backend" && s.Kind == "listen") {
			return s
		}
	}
	return nil
}
