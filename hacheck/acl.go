package hacheck

import (
	"regexp"
	"strings"

	"github.com/stickyprobe/stickyprobe/hacfg"
)

// tri is a three-valued truth: a condition the URL alone cannot decide
// is unknown.
type tri int

const (
	no tri = iota
	yes
	unknown
)

func (t tri) not() tri {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

func and(a, b tri) tri {
	switch {
	case a == no || b == no:
		return no
	case a == yes && b == yes:
		return yes
	}
	return unknown
}

func or(a, b tri) tri {
	switch {
	case a == yes || b == yes:
		return yes
	case a == no && b == no:
		return no
	}
	return unknown
}

// probeRequest is what the probe sends: a GET of the URL.
type probeRequest struct {
	host, path, query string
}

// evalCond evaluates an if/unless condition: terms joined by AND, groups
// joined by `or` / `||`; a term is an ACL name, !name, or { anonymous }.
func evalCond(fe *hacfg.Section, words []string, req probeRequest) tri {
	result, group := no, yes
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "or" || w == "||":
			result, group = or(result, group), yes
			continue
		case w == "{" || w == "!{":
			end := i + 1
			for end < len(words) && words[end] != "}" {
				end++
			}
			v := evalCriterion(words[i+1:min(end, len(words))], req)
			if w == "!{" {
				v = v.not()
			}
			group, i = and(group, v), end
			continue
		}
		neg := strings.HasPrefix(w, "!")
		v := evalNamed(fe, strings.TrimPrefix(w, "!"), req)
		if neg {
			v = v.not()
		}
		group = and(group, v)
	}
	return or(result, group)
}

// builtinACLs are HAProxy's predefined ACLs that a GET decides.
var builtinACLs = map[string]tri{"TRUE": yes, "FALSE": no, "HTTP": yes, "METH_GET": yes, "METH_POST": no,
	"METH_CONNECT": no, "METH_DELETE": no, "METH_HEAD": no, "METH_OPTIONS": no, "METH_PUT": no, "METH_TRACE": no}

// evalNamed ORs every `acl NAME ...` line of the frontend.
func evalNamed(fe *hacfg.Section, name string, req probeRequest) tri {
	if v, ok := builtinACLs[name]; ok {
		return v
	}
	v, found := no, false
	for _, l := range fe.All("acl") {
		if len(l.Args) > 2 && l.Args[1] == name {
			found = true
			v = or(v, evalCriterion(l.Args[2:], req))
		}
	}
	if !found {
		return unknown
	}
	return v
}

// evalCriterion evaluates "fetch [flags] patterns...", for the fetches
// the URL decides: the Host header, the path, the URL.
func evalCriterion(words []string, req probeRequest) tri {
	if len(words) == 0 {
		return unknown
	}
	sample, match, ok := fetch(words[0], req)
	if !ok {
		return unknown
	}
	fold := false
	i := 1
	for ; i < len(words) && strings.HasPrefix(words[i], "-"); i++ {
		switch words[i] {
		case "-i":
			fold = true
		case "-m":
			if i+1 >= len(words) {
				return unknown
			}
			match, i = words[i+1], i+1
		case "--":
			i++
			goto patterns
		default:
			return unknown // -f pattern files, -M maps, ...: not known here
		}
	}
patterns:
	if match == "found" {
		return boolTri(sample != "")
	}
	for _, p := range words[min(i, len(words)):] {
		v := matchOne(match, sample, p, fold)
		if v != no {
			return v
		}
	}
	return no
}

func boolTri(b bool) tri {
	if b {
		return yes
	}
	return no
}

// fetch returns the sample a criterion reads and its default match.
func fetch(name string, req probeRequest) (sample, match string, ok bool) {
	base, arg, _ := strings.Cut(strings.TrimSuffix(name, ")"), "(")
	base = strings.TrimPrefix(base, "req.")
	suffix := ""
	for _, m := range []string{"_beg", "_end", "_sub", "_dom", "_reg", "_dir", "_len"} {
		if strings.HasSuffix(base, m) {
			base, suffix = strings.TrimSuffix(base, m), m[1:]
			break
		}
	}
	if suffix == "" {
		suffix = "str"
	}
	switch {
	case base == "hdr" && strings.EqualFold(arg, "host"):
		return req.host, suffix, true
	case base == "path" && arg == "":
		return req.path, suffix, true
	case (base == "url" || base == "base") && arg == "":
		u := req.path
		if req.query != "" && base == "url" {
			u += "?" + req.query
		}
		if base == "base" {
			u = req.host + req.path
		}
		return u, suffix, true
	}
	return "", "", false
}

func matchOne(match, sample, p string, fold bool) tri {
	if fold && match != "reg" {
		sample, p = strings.ToLower(sample), strings.ToLower(p)
	}
	switch match {
	case "str":
		return boolTri(sample == p)
	case "beg":
		return boolTri(strings.HasPrefix(sample, p))
	case "end":
		return boolTri(strings.HasSuffix(sample, p))
	case "sub":
		return boolTri(strings.Contains(sample, p))
	case "dom":
		return boolTri(wordMatch(sample, p, "/?.:"))
	case "dir":
		return boolTri(wordMatch(sample, p, "/?"))
	case "reg":
		if fold {
			p = "(?i)" + p
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return unknown // PCRE that Go does not read
		}
		return boolTri(re.MatchString(sample))
	}
	return unknown
}

// wordMatch: p occurs in sample delimited on both sides by the start,
// the end or one of delims (HAProxy's -m dom and -m dir).
func wordMatch(sample, p, delims string) bool {
	if p == "" {
		return false
	}
	for from := 0; from <= len(sample)-len(p); {
		i := strings.Index(sample[from:], p)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(p)
		left := i == 0 || strings.IndexByte(delims, sample[i-1]) >= 0
		right := end == len(sample) || strings.IndexByte(delims, sample[end]) >= 0
		if left && right {
			return true
		}
		from = i + 1
	}
	return false
}
