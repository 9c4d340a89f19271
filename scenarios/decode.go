package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// This file holds the strict YAML reading: every value is checked against
// the type its key wants, and every error carries the file, the line and
// the dotted key (phases[1].timeout), so a typo is found without guessing.

// Error is a problem in a scenario file.
type Error struct {
	File string
	Line int    // 0 when no line applies
	Key  string // dotted path such as phases[1].timeout; "" for the file as a whole
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes every scenario error an ErrInvalid, like Validate's.
func (e *Error) Unwrap() error { return ErrInvalid }

type decoder struct{ file string }

func (d *decoder) errorf(n *yaml.Node, key, format string, a ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: d.file, Line: line, Key: key, Msg: fmt.Sprintf(format, a...)}
}

// field is one key of a mapping with its value.
type field struct{ key, val *yaml.Node }

// fields returns a mapping's keys, refusing unknown and repeated ones.
func (d *decoder) fields(n *yaml.Node, path string, known ...string) (map[string]field, error) {
	if n.Kind != yaml.MappingNode {
		return nil, d.errorf(n, path, "want a mapping of keys, got %s", describe(n))
	}
	out := make(map[string]field, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
			return nil, d.errorf(k, path, "keys must be plain names, got %s", describe(k))
		}
		full := join(path, k.Value)
		if !slices.Contains(known, k.Value) {
			return nil, d.errorf(k, full, "unknown key%s", suggest(k.Value, known))
		}
		if _, dup := out[k.Value]; dup {
			return nil, d.errorf(k, full, "given twice")
		}
		out[k.Value] = field{k, v}
	}
	return out, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// suggest names the known key closest to a typo, and the keys allowed.
func suggest(got string, known []string) string {
	best, bestD := "", 3
	norm := strings.ReplaceAll(strings.ToLower(got), "-", "_")
	for _, k := range known {
		if dist := editDistance(norm, k); dist < bestD {
			best, bestD = k, dist
		}
	}
	if best != "" {
		return fmt.Sprintf("; did you mean %s?", best)
	}
	return " (known: " + strings.Join(known, ", ") + ")"
}

// editDistance is the Levenshtein distance, for short keys only.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describe names what a node is, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		switch n.Tag {
		case "!!null":
			return "nothing"
		case "!!str":
			return fmt.Sprintf("the string %q", v)
		case "!!int", "!!float":
			return "the number " + v
		case "!!bool":
			return v
		}
		return fmt.Sprintf("%q (%s)", v, n.Tag)
	}
	return "an alias"
}

func (d *decoder) str(f field, key string) (string, error) {
	if f.val.Kind != yaml.ScalarNode || f.val.Tag != "!!str" {
		return "", d.errorf(f.val, key, "want a string, got %s", describe(f.val))
	}
	return f.val.Value, nil
}

// strs accepts a list of strings, or one string as a list of one.
func (d *decoder) strs(f field, key string) ([]string, []*yaml.Node, error) {
	items := []*yaml.Node{f.val}
	if f.val.Kind == yaml.SequenceNode {
		items = f.val.Content
	}
	out := make([]string, len(items))
	for i, n := range items {
		k := key
		if f.val.Kind == yaml.SequenceNode {
			k = fmt.Sprintf("%s[%d]", key, i)
		}
		if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
			return nil, nil, d.errorf(n, k, "want a string, got %s", describe(n))
		}
		out[i] = n.Value
	}
	return out, items, nil
}

// itemKey names item i of a value strs read: key[i] for a list, key for
// a single string.
func itemKey(f field, key string, i int) string {
	if f.val.Kind == yaml.SequenceNode {
		return fmt.Sprintf("%s[%d]", key, i)
	}
	return key
}

func (d *decoder) integer(f field, key string, lo, hi int64) (int64, error) {
	var x int64
	if f.val.Kind != yaml.ScalarNode || f.val.Tag != "!!int" {
		return 0, d.errorf(f.val, key, "want a whole number, got %s", describe(f.val))
	}
	if err := f.val.Decode(&x); err != nil || x < lo || x > hi {
		return 0, d.errorf(f.val, key, "%s is out of range %d..%d", f.val.Value, lo, hi)
	}
	return x, nil
}

func (d *decoder) number(f field, key string, lo, hi float64) (float64, error) {
	var x float64
	if f.val.Kind != yaml.ScalarNode || (f.val.Tag != "!!int" && f.val.Tag != "!!float") {
		return 0, d.errorf(f.val, key, "want a number, got %s", describe(f.val))
	}
	if err := f.val.Decode(&x); err != nil || math.IsNaN(x) || x < lo || x > hi {
		return 0, d.errorf(f.val, key, "%s is out of range %g..%g", f.val.Value, lo, hi)
	}
	return x, nil
}

func (d *decoder) boolean(f field, key string) (bool, error) {
	var x bool
	if f.val.Kind != yaml.ScalarNode || f.val.Tag != "!!bool" || f.val.Decode(&x) != nil {
		return false, d.errorf(f.val, key, "want true or false, got %s", describe(f.val))
	}
	return x, nil
}

// duration reads a Go duration such as 1.5s or 2m; a bare number is
// refused, since "60" could mean seconds or milliseconds.
func (d *decoder) duration(f field, key string, lo, hi time.Duration) (time.Duration, error) {
	if f.val.Kind != yaml.ScalarNode || (f.val.Tag != "!!str" && f.val.Tag != "!!int" && f.val.Tag != "!!float") {
		return 0, d.errorf(f.val, key, "want a duration such as 30s, got %s", describe(f.val))
	}
	x, err := time.ParseDuration(f.val.Value)
	if err != nil {
		if f.val.Tag != "!!str" {
			return 0, d.errorf(f.val, key, "bad duration %s: give a unit, such as %ss", f.val.Value, f.val.Value)
		}
		return 0, d.errorf(f.val, key, "bad duration %q: want a number and a unit, such as 500ms, 30s or 2m", f.val.Value)
	}
	if x < lo || x > hi {
		return 0, d.errorf(f.val, key, "%s is out of range %s..%s", f.val.Value, lo, hi)
	}
	return x, nil
}

// checkTree refuses anchors, aliases and custom tags before anything is
// read: aliases can blow a small file up into a huge one, and nothing a
// scenario says needs them.
func (d *decoder) checkTree(n *yaml.Node, depth int) error {
	if depth > 32 {
		return d.errorf(n, "", "nested too deeply")
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return d.errorf(n, "", "anchors and aliases (&, *) are not supported in scenario files")
	}
	if n.Kind == yaml.ScalarNode && n.Tag != "" && !strings.HasPrefix(n.Tag, "!!") {
		return d.errorf(n, "", "custom tag %q is not supported", n.Tag)
	}
	for _, c := range n.Content {
		if err := d.checkTree(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// flagless drops the "--flag " prefix of a flag parser's message: in a
// file the key is named already.
func flagless(err error, flag string) string {
	return strings.TrimPrefix(err.Error(), flag+" ")
}

// fileWords names the file's keys where a check shared with the command
// line names its flags: a scenario file's author reads "burst 30", not
// "--burst 30".
var fileWords = strings.NewReplacer(
	"--source-move-after", "source.move_after",
	"--source-ips", "source.ips",
	"--max-duration", "max_duration",
	"--concurrency", "concurrency",
	"--min-backends", "expect.min_backends",
	"--max-imbalance", "expect.max_imbalance",
	"--burst", "burst",
	"--http2", "http2",
	"--conn", "conn",
)
