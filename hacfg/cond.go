package hacfg

import (
	"strconv"
	"strings"
)

// cond is one open .if level.
type cond struct {
	line    int
	parent  bool // the level around it keeps lines
	taken   bool // a branch of this level was kept already
	keeping bool // the current branch is kept
	sawElse bool
}

func (p *parser) active() bool {
	return len(p.conds) == 0 || p.conds[len(p.conds)-1].keeping
}

// directive handles the lines starting with a dot. It reports whether the
// line was one of them.
func (p *parser) directive(l Line) (bool, error) {
	n := len(p.conds)
	switch l.Args[0] {
	case ".if":
		c := cond{line: l.Num, parent: p.active()}
		if c.parent {
			ok, err := p.eval(l)
			if err != nil {
				return true, err
			}
			c.keeping, c.taken = ok, ok
		}
		p.conds = append(p.conds, c)
	case ".elif":
		if n == 0 || p.conds[n-1].sawElse {
			return true, p.errorf(l.Num, "'.elif' without a '.if' before it")
		}
		c := &p.conds[n-1]
		c.keeping = false
		if c.parent && !c.taken {
			ok, err := p.eval(l)
			if err != nil {
				return true, err
			}
			c.keeping, c.taken = ok, ok
		}
	case ".else":
		if n == 0 || p.conds[n-1].sawElse {
			return true, p.errorf(l.Num, "'.else' without a '.if' before it")
		}
		c := &p.conds[n-1]
		c.keeping, c.sawElse = c.parent && !c.taken, true
		c.taken = true
	case ".endif":
		if n == 0 {
			return true, p.errorf(l.Num, "'.endif' without a '.if' before it")
		}
		p.conds = p.conds[:n-1]
	case ".diag", ".notice", ".warning", ".alert":
		if p.active() && l.Args[0] == ".alert" {
			return true, p.errorf(l.Num, "the config stops itself: .alert %s", strings.Join(l.Args[1:], " "))
		}
	default:
		return false, nil
	}
	return true, nil
}

// eval evaluates the condition of a .if or .elif line.
func (p *parser) eval(l Line) (bool, error) {
	e := &condExpr{s: strings.Join(l.Args[1:], " "), p: p}
	v := e.or()
	if e.skip(); e.pos < len(e.s) {
		e.fail("unexpected '" + e.s[e.pos:] + "'")
	}
	if e.err != "" {
		return false, p.errorf(l.Num, "%s condition: %s", l.Args[0], e.err)
	}
	return v, nil
}

// condExpr is a recursive-descent reader of one condition: || of && of
// terms; a term is !term, (expr), a number, or a predicate with arguments.
type condExpr struct {
	s     string
	pos   int
	err   string
	depth int
	p     *parser
}

// maxCondDepth bounds nesting, so a line of '(' cannot exhaust the stack.
const maxCondDepth = 64

func (e *condExpr) fail(msg string) {
	if e.err == "" {
		e.err = msg
	}
}

func (e *condExpr) skip() {
	for e.pos < len(e.s) && (e.s[e.pos] == ' ' || e.s[e.pos] == '\t') {
		e.pos++
	}
}

func (e *condExpr) eat(tok string) bool {
	e.skip()
	if strings.HasPrefix(e.s[e.pos:], tok) {
		e.pos += len(tok)
		return true
	}
	return false
}

func (e *condExpr) or() bool {
	v := e.and()
	for e.err == "" && e.eat("||") {
		w := e.and()
		v = v || w
	}
	return v
}

func (e *condExpr) and() bool {
	v := e.term()
	for e.err == "" && e.eat("&&") {
		w := e.term()
		v = v && w
	}
	return v
}

func (e *condExpr) term() bool {
	if e.depth++; e.depth > maxCondDepth {
		e.fail("nested too deep")
		return false
	}
	defer func() { e.depth-- }()
	e.skip()
	switch {
	case e.pos >= len(e.s):
		return false // an empty condition is false
	case e.eat("!"):
		return !e.term()
	case e.eat("("):
		v := e.or()
		if !e.eat(")") {
			e.fail("missing ')'")
		}
		return v
	}
	start := e.pos
	for e.pos < len(e.s) && (isNameByte(e.s[e.pos], false) || e.s[e.pos] == '-') {
		e.pos++
	}
	word := e.s[start:e.pos]
	if n, err := strconv.ParseInt(word, 10, 64); err == nil {
		return n != 0
	}
	if word == "" || !e.eat("(") {
		e.fail("'" + e.s[start:] + "' is no predicate")
		return false
	}
	return e.predicate(word, e.args())
}

// args reads a predicate's comma-separated arguments up to ')'; quotes
// inside them protect commas and parentheses.
func (e *condExpr) args() []string {
	var out []string
	var cur strings.Builder
	var quote byte
	for ; e.pos < len(e.s); e.pos++ {
		ch := e.s[e.pos]
		switch {
		case quote != 0 && ch == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(ch)
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == ',':
			out = append(out, cur.String())
			cur.Reset()
		case ch == ')':
			e.pos++
			return append(out, cur.String())
		default:
			cur.WriteByte(ch)
		}
	}
	e.fail("missing ')' after the arguments")
	return nil
}

func (e *condExpr) predicate(name string, args []string) bool {
	want := map[string]int{"defined": 1, "feature": 1, "streq": 2, "strneq": 2, "version_atleast": 1, "version_before": 1}
	n, ok := want[name]
	if !ok {
		e.fail("unknown predicate '" + name + "'")
		return false
	}
	if len(args) != n {
		e.fail(name + " takes " + strconv.Itoa(n) + " argument(s)")
		return false
	}
	switch name {
	case "defined":
		_, ok := e.p.env(args[0])
		return ok
	case "feature":
		for _, f := range e.p.opts.Features {
			if f == args[0] {
				return true
			}
		}
		return false
	case "streq":
		return args[0] == args[1]
	case "strneq":
		return args[0] != args[1]
	}
	v := e.p.opts.Version
	if v == "" {
		v = DefaultVersion
	}
	atLeast := compareVersions(v, args[0]) >= 0
	if name == "version_atleast" {
		return atLeast
	}
	return !atLeast
}

// compareVersions compares dotted versions numerically ("2.6.12" >
// "2.6.9"); what follows the numbers (-dev, -1+deb12u3) is ignored.
func compareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionParts(v string) []int {
	var out []int
	for _, f := range strings.Split(v, ".") {
		end := 0
		for end < len(f) && f[end] >= '0' && f[end] <= '9' {
			end++
		}
		n, err := strconv.Atoi(f[:end])
		if err != nil || len(out) == 8 {
			break
		}
		out = append(out, n)
		if end < len(f) {
			break
		}
	}
	return out
}
