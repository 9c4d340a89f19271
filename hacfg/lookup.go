package hacfg

// maxChain bounds a walk up the defaults sections (each `from` names an
// earlier section, so a chain cannot loop; the bound is belt and braces).
const maxChain = 64

// All returns the section's own lines with that keyword, in order.
func (s *Section) All(keyword string) []Line {
	var out []Line
	for _, l := range s.Lines {
		if l.Keyword() == keyword {
			out = append(out, l)
		}
	}
	return out
}

// Lookup returns the line that sets keyword for this section: its own
// last one, else the one it inherits from its defaults sections. ok is
// false when none sets it.
func (s *Section) Lookup(keyword string) (Line, bool) {
	for cur, i := s, 0; cur != nil && i < maxChain; cur, i = cur.Defaults, i+1 {
		if ls := cur.All(keyword); len(ls) > 0 {
			return ls[len(ls)-1], true
		}
	}
	return Line{}, false
}

// Option reports whether `option NAME` is on for this section, and the
// line that decided it (`option NAME` or `no option NAME`, its own or
// inherited). ok is false when no line mentions it.
func (s *Section) Option(name string) (on bool, l Line, ok bool) {
	for cur, i := s, 0; cur != nil && i < maxChain; cur, i = cur.Defaults, i+1 {
		for j := len(cur.Lines) - 1; j >= 0; j-- {
			a := cur.Lines[j].Args
			switch {
			case len(a) >= 2 && a[0] == "option" && a[1] == name:
				return true, cur.Lines[j], true
			case len(a) >= 3 && a[0] == "no" && a[1] == "option" && a[2] == name:
				return false, cur.Lines[j], true
			}
		}
	}
	return false, Line{}, false
}

// Mode is the section's proxy mode, "tcp" when none is set (HAProxy's
// default), and the line that set it.
func (s *Section) Mode() (string, Line) {
	l, ok := s.Lookup("mode")
	if !ok || len(l.Args) < 2 {
		return "tcp", l
	}
	return l.Args[1], l
}
