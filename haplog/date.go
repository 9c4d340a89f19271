package haplog

import (
	"strings"
	"time"
)

// date reads %tr's "dd/Mon/yyyy:hh:mm:ss.mmm" in p.loc, or %trg's and
// %T's "dd/Mon/yyyy:hh:mm:ss +zzzz" with its own offset.
func (p *Parser) date(s string) (time.Time, bool) {
	if len(s) < 20 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' {
		return time.Time{}, false
	}
	base, ok := p.second(s[:20])
	if !ok {
		return time.Time{}, false
	}
	rest := s[20:]
	switch {
	case rest == "":
		return base, true
	case rest[0] == '.' && len(rest) == 4:
		ms, ok := atoi(rest[1:])
		if !ok || ms < 0 {
			return time.Time{}, false
		}
		return base.Add(time.Duration(ms) * time.Millisecond), true
	case rest[0] == ' ' && len(rest) == 6:
		off, ok := zoneOffset(rest[1:])
		if !ok {
			return time.Time{}, false
		}
		// base was built in p.loc; rebuild the same wall clock at the offset.
		y, mo, d := base.Date()
		h, mi, sec := base.Clock()
		return time.Date(y, mo, d, h, mi, sec, 0, time.FixedZone("", off)), true
	}
	return time.Time{}, false
}

// second parses "dd/Mon/yyyy:hh:mm:ss", from the cache when it repeats.
func (p *Parser) second(s string) (time.Time, bool) {
	if s == p.lastSecond {
		return p.lastBase, true
	}
	day, ok1 := atoi(s[0:2])
	mon := monthIndex(s[3:6])
	year, ok2 := atoi(s[7:11])
	hh, ok3 := atoi(s[12:14])
	mm, ok4 := atoi(s[15:17])
	ss, ok5 := atoi(s[18:20])
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || mon < 0 || day < 1 || day > 31 || year < 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(mon+1), day, hh, mm, ss, 0, p.loc)
	p.lastSecond, p.lastBase = strings.Clone(s), t
	return t, true
}

// zoneOffset reads "+hhmm" or "-hhmm" into seconds east of UTC.
func zoneOffset(z string) (int, bool) {
	if len(z) != 5 || (z[0] != '+' && z[0] != '-') {
		return 0, false
	}
	h, ok1 := atoi(z[1:3])
	m, ok2 := atoi(z[3:5])
	if !ok1 || !ok2 || h < 0 || m < 0 || h > 14 || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return off, true
}
