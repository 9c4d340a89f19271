package hacfg

import (
	"errors"
	"strings"
)

// lookupFunc finds an environment variable.
type lookupFunc func(name string) (string, bool)

// splitWords cuts one line into words as HAProxy 2.6 does: spaces and tabs
// separate words, '#' starts a comment, backslash escapes outside single
// quotes, variables expand inside double quotes only. env also answers
// the pseudo-variables .FILE, .LINE and .SECTION.
func splitWords(line string, env lookupFunc) ([]string, error) {
	var w splitter
	var quote byte // 0, '"' or '\''
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quote == '\'':
			if ch == '\'' {
				quote = 0
			} else {
				w.cur.WriteByte(ch)
			}
		case ch == '\'' || ch == '"':
			if quote == ch {
				quote = 0
			} else if quote == 0 {
				quote, w.inWord = ch, true
			} else {
				w.cur.WriteByte(ch) // a single quote inside double quotes
			}
		case ch == '\\':
			i += escape(line[i+1:], &w.cur)
			w.inWord = true
		case quote == '"' && ch == '$':
			n, err := w.variable(line[i+1:], env)
			if err != nil {
				return nil, err
			}
			i += n
		case quote == '"':
			w.cur.WriteByte(ch)
		case ch == ' ' || ch == '\t':
			w.flush()
		case ch == '#' || ch == '\r' || ch == '\n':
			w.flush()
			return w.words, nil
		default:
			w.cur.WriteByte(ch)
			w.inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unmatched quote")
	}
	w.flush()
	return w.words, nil
}

// splitter collects the words of a line.
type splitter struct {
	words  []string
	cur    strings.Builder
	inWord bool // cur holds a word, maybe empty ("")
}

func (w *splitter) flush() {
	if w.inWord {
		w.words = append(w.words, w.cur.String())
	}
	w.cur.Reset()
	w.inWord = false
}

// variable expands the variable after a '$' into the current word (and,
// for "${LIST[*]}", into several words) and returns the bytes it used.
func (w *splitter) variable(s string, env lookupFunc) (int, error) {
	n, extra, err := expand(s, env, &w.cur)
	if err != nil {
		return 0, err
	}
	if len(extra) > 0 {
		w.words = append(w.words, w.cur.String())
		w.words = append(w.words, extra[:len(extra)-1]...)
		w.cur.Reset()
		w.cur.WriteString(extra[len(extra)-1])
	}
	w.inWord = true
	return n, nil
}

// escape writes what the backslash sequence at the start of s stands for
// and returns how many bytes of s it used. An unknown escape keeps its
// backslash, as HAProxy 2.6 does.
func escape(s string, cur *strings.Builder) int {
	if s == "" {
		cur.WriteByte('\\')
		return 0
	}
	switch s[0] {
	case ' ', '\t', '#', '\\', '\'', '"', '$':
		cur.WriteByte(s[0])
	case 'n':
		cur.WriteByte('\n')
	case 'r':
		cur.WriteByte('\r')
	case 't':
		cur.WriteByte('\t')
	case 'x':
		if len(s) >= 3 && isHex(s[1]) && isHex(s[2]) {
			cur.WriteByte(unhex(s[1])<<4 | unhex(s[2]))
			return 3
		}
		cur.WriteString(`\x`)
	default:
		cur.WriteByte('\\')
		cur.WriteByte(s[0])
	}
	return 1
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// expand handles the variable after a '$' inside double quotes: $NAME,
// ${NAME}, ${NAME-default} or ${NAME[*]}. It writes the value (for [*],
// its words beyond the first go to extra) and returns how many bytes of s
// it used. A '$' that starts no name is kept.
func expand(s string, env lookupFunc, cur *strings.Builder) (n int, extra []string, err error) {
	braced := strings.HasPrefix(s, "{")
	start := 0
	if braced {
		start = 1
	}
	end := start
	for end < len(s) && isNameByte(s[end], end == start) {
		end++
	}
	name := s[start:end]
	if name == "" {
		cur.WriteByte('$')
		return 0, nil, nil
	}
	if !braced {
		v, _ := env(name)
		cur.WriteString(v)
		return end, nil, nil
	}
	rest := s[end:]
	closeAt := strings.IndexByte(rest, '}')
	if closeAt < 0 {
		return 0, nil, errors.New("missing '}' after '${" + name + "'")
	}
	mod := rest[:closeAt]
	v, ok := env(name)
	switch {
	case mod == "":
	case mod == "[*]":
		f := strings.Fields(v)
		if len(f) > 1 {
			cur.WriteString(f[0])
			return end + closeAt + 1, f[1:], nil
		}
		v = strings.Join(f, "")
	case mod[0] == '-':
		if !ok {
			v = mod[1:]
		}
	default:
		return 0, nil, errors.New("unexpected '" + mod + "' in '${" + name + "'")
	}
	cur.WriteString(v)
	return end + closeAt + 1, nil, nil
}

// isNameByte: letters, digits (not first), '_', and a leading '.' (the
// pseudo-variables such as .LINE); "$FOO.bar" is FOO then ".bar".
func isNameByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		return true
	case c >= '0' && c <= '9':
		return !first
	case c == '.':
		return first
	}
	return false
}
