package hacfg

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testEnv = map[string]string{"FOO": "hello", "LIST": "a b c", "EMPTY": ""}

func lookupTest(name string) (string, bool) {
	v, ok := testEnv[name]
	return v, ok
}

// oneWord are inputs that make one word, with the word HAProxy 2.6.12
// makes of them (TestOneWordMatchesHAProxy checks every one against it).
var oneWord = []struct{ in, want string }{
	{`"${FOO}"`, "hello"},
	{`"$FOO"`, "hello"},
	{`'${FOO}'`, "${FOO}"},
	{`${FOO}x`, "${FOO}x"}, // no expansion outside double quotes
	{`"${BAR-dflt}"`, "dflt"},
	{`"${EMPTY-dflt}"`, ""}, // the default replaces a missing variable, not an empty one
	{`x\ y`, "x y"},
	{`"a"'b'c`, "abc"},
	{`a\#b`, "a#b"},
	{`"\$x"`, "$x"},
	{`a\qb`, `a\qb`}, // an unknown escape keeps its backslash
	{`\x41\x4a`, "AJ"},
	{`"$FOO.bar"`, "hello.bar"},
	{`"${.LINE}"`, "2"},
	{`a#b`, "a"}, // a comment starts even inside a word
	{`"a"#b`, "a"},
	{`"it's"`, "it's"},
	{`'a\b'`, `a\b`},
	{`"a\"b"`, `a"b`},
	{`\'x\'`, `'x'`},
}

func TestOneWord(t *testing.T) {
	for _, tt := range oneWord {
		env := func(n string) (string, bool) {
			if n == ".LINE" {
				return "2", true
			}
			return lookupTest(n)
		}
		got, err := splitWords(tt.in, env)
		if err != nil || len(got) != 1 || got[0] != tt.want {
			t.Errorf("splitWords(%s) = %q, %v; want [%q]", tt.in, got, err, tt.want)
		}
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"  cookie SERVERID insert indirect nocache", []string{"cookie", "SERVERID", "insert", "indirect", "nocache"}},
		{"\tserver s1 127.0.0.1:80\tcheck # the first", []string{"server", "s1", "127.0.0.1:80", "check"}},
		{`.notice "${LIST[*]}"`, []string{".notice", "a", "b", "c"}},
		{`x "pre${LIST[*]}post" y`, []string{"x", "prea", "b", "cpost", "y"}},
		{`attr "SameSite=None"`, []string{"attr", "SameSite=None"}},
		{`empty ""`, []string{"empty", ""}},
		{"# only a comment", nil},
		{"a\rb", []string{"a"}}, // HAProxy ends a line at CR
	}
	for _, tt := range tests {
		got, err := splitWords(tt.in, lookupTest)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`a "b`, `'x`, `"${FOO"`, `"${FOO:x}"`} {
		if _, err := splitWords(bad, lookupTest); err == nil {
			t.Errorf("splitWords(%q): no error", bad)
		}
	}
}

var noticeLine = regexp.MustCompile(`parsing \[[^:]+:(\d+)\]: '(.*)'\.`)

// TestOneWordMatchesHAProxy runs the real haproxy on a config of
// `.notice WORD` lines, one per case, and compares what it prints with
// the table: the rules above are HAProxy's, not guesses.
func TestOneWordMatchesHAProxy(t *testing.T) {
	bin := haproxyBinary(t)
	var b strings.Builder
	b.WriteString("global\n")
	for _, tt := range oneWord {
		b.WriteString("    .notice " + tt.in + "\n")
	}
	path := filepath.Join(t.TempDir(), "words.cfg")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-c", "-f", path)
	cmd.Env = []string{"FOO=hello", "LIST=a b c", "EMPTY="}
	out, _ := cmd.CombinedOutput()
	got := map[string]string{}
	for _, m := range noticeLine.FindAllStringSubmatch(string(out), -1) {
		got[m[1]] = m[2]
	}
	for i, tt := range oneWord {
		line := strconv.Itoa(i + 2)
		want := tt.want
		if tt.in == `"${.LINE}"` {
			want = line
		}
		if h, ok := got[line]; !ok || h != want {
			t.Errorf("line %s %s: haproxy printed %q (found %v), the table says %q\n%s", line, tt.in, h, ok, want, out)
		}
	}
}

// haproxyBinary finds the haproxy the lab uses; a missing one fails the
// test, as everywhere in this repository.
func haproxyBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"haproxy", "/usr/sbin/haproxy"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	t.Fatal("haproxy not found (Debian/Ubuntu: sudo apt-get install -y haproxy)")
	return ""
}
