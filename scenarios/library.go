package scenarios

import (
	"embed"
	"fmt"
	"path"
	"slices"
	"strings"
)

// The built-in scenarios are documented YAML files in library/, embedded in
// the binary so `stickyprobe scenario show NAME` can print them for users
// to copy and edit.
//
//go:embed library/*.yaml
var library embed.FS

// Builtin is one scenario of the built-in library.
type Builtin struct {
	Name        string
	Description string
	Source      []byte // the file as shipped, comments included
}

// Builtins lists the built-in scenarios by name. A file of the library that
// does not parse is a bug the tests catch; it is left out here rather than
// breaking the command.
func Builtins() []Builtin {
	entries, _ := library.ReadDir("library")
	out := make([]Builtin, 0, len(entries))
	for _, e := range entries {
		b, err := loadBuiltin(strings.TrimSuffix(e.Name(), ".yaml"))
		if err == nil {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b Builtin) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// LookupBuiltin returns the built-in scenario called name, parsed.
func LookupBuiltin(name string) (*File, []byte, error) {
	b, err := loadBuiltin(name)
	if err != nil {
		return nil, nil, err
	}
	f, err := Parse("builtin:"+name, b.Source)
	return f, b.Source, err
}

func loadBuiltin(name string) (Builtin, error) {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return Builtin{}, unknownBuiltin(name)
	}
	src, err := library.ReadFile(path.Join("library", name+".yaml"))
	if err != nil {
		return Builtin{}, unknownBuiltin(name)
	}
	f, err := Parse("builtin:"+name, src)
	if err != nil {
		return Builtin{}, err
	}
	return Builtin{Name: name, Description: f.Description, Source: src}, nil
}

func unknownBuiltin(name string) error {
	entries, _ := library.ReadDir("library")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return fmt.Errorf("%w: no built-in scenario %q; built-ins: %s (a file path needs a / or a .yaml suffix)",
		ErrInvalid, name, strings.Join(names, ", "))
}
