package haplog

import "strings"

// splitHeader removes a syslog header, if the line has one, and returns
// the host it names ("" when it names none) and HAProxy's message. It
// knows the headers HAProxy writes itself (rfc3164, rfc5424, local, short,
// timed, iso) and those rsyslog and journald put in front of a message
// they received (traditional "Mmm dd hh:mm:ss host tag:", RFC 3339 "date
// host tag:", RFC 5424). A line without a recognised header is returned
// whole: `log stdout format raw` writes the bare message.
func splitHeader(line string) (host, msg string) {
	s := line
	if len(s) > 2 && s[0] == '<' {
		if end := strings.IndexByte(s[:min(len(s), 6)], '>'); end > 1 && allDigits(s[1:end]) {
			s = s[end+1:]
		}
	}
	switch {
	case len(s) > 2 && s[0] == '1' && s[1] == ' ':
		if h, m, ok := split5424(s[2:]); ok {
			return h, m
		}
	case isISODate(s):
		_, rest, _ := strings.Cut(s, " ")
		return afterTag(rest)
	case isStamp3164(s):
		return afterTag(s[16:])
	}
	return "", s
}

// split5424 reads "TIMESTAMP HOST APP PROCID MSGID SD MSG" (after "1 ").
func split5424(s string) (host, msg string, ok bool) {
	var fields [5]string
	for i := range fields {
		var found bool
		fields[i], s, found = strings.Cut(s, " ")
		if !found {
			return "", "", false
		}
	}
	host = fields[1]
	if host == "-" {
		host = ""
	}
	switch {
	case strings.HasPrefix(s, "- "):
		s = s[2:]
	case s == "-":
		s = ""
	default:
		var sdOK bool
		if s, sdOK = skipStructuredData(s); !sdOK {
			return "", "", false
		}
	}
	return host, strings.TrimPrefix(s, "\ufeff"), true
}

// skipStructuredData skips one or more "[id k="v" ...]" elements and the
// space after them; a ']' inside a value is escaped with a backslash.
func skipStructuredData(s string) (string, bool) {
	for len(s) > 0 && s[0] == '[' {
		i := 1
		for ; i < len(s) && s[i] != ']'; i++ {
			if s[i] == '\\' {
				i++
			}
		}
		if i >= len(s) {
			return "", false
		}
		s = s[i+1:]
	}
	if strings.HasPrefix(s, " ") {
		return s[1:], true
	}
	return s, s == ""
}

// afterTag skips "tag: " or "host tag: " when the next words are that;
// otherwise the message follows the date directly (HAProxy's iso, timed
// and short formats).
func afterTag(s string) (host, msg string) {
	w1, rest1, _ := strings.Cut(s, " ")
	if isTag(w1) {
		return "", rest1
	}
	w2, rest2, found := strings.Cut(rest1, " ")
	if found && isTag(w2) {
		return w1, rest2
	}
	return "", s
}

// isTag matches a syslog tag as programs write it: "haproxy[123]:" or
// "haproxy:". A client address ("10.0.0.1:5000", "::1:5000") never ends in
// a colon, so it is not mistaken for one.
func isTag(w string) bool {
	if len(w) < 2 || w[len(w)-1] != ':' {
		return false
	}
	c := w[0]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// isISODate matches the start of an RFC 3339 date: "2026-12-03T".
func isISODate(s string) bool {
	return len(s) > 11 && allDigits(s[0:4]) && s[4] == '-' && allDigits(s[5:7]) && s[7] == '-' &&
		allDigits(s[8:10]) && s[10] == 'T'
}

// isStamp3164 matches "Mmm dd hh:mm:ss " (day padded with a space, or
// with a zero as journald writes it).
func isStamp3164(s string) bool {
	if len(s) < 16 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':' || s[15] != ' ' {
		return false
	}
	if monthIndex(s[0:3]) < 0 {
		return false
	}
	day := s[4:6]
	if day[0] == ' ' {
		day = day[1:]
	}
	return allDigits(day) && allDigits(s[7:9]) && allDigits(s[10:12]) && allDigits(s[13:15])
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func monthIndex(m string) int {
	for i, x := range months {
		if x == m {
			return i
		}
	}
	return -1
}
