package scenarios

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// FuzzScenarioFile feeds the scenario decoder arbitrary bytes, seeded with every
// fixture and built-in. Whatever the input: no panic; an error is a
// *Error for this file with a line inside it (or none); and what Parse
// accepts, Validate accepts too once a URL is given, so a file can never
// get past the decoder with a value the probe would refuse mid-run.
//
//	go test -run='^$' -fuzz=FuzzScenarioFile -fuzztime=20s ./scenarios/
func FuzzScenarioFile(f *testing.F) {
	for _, glob := range []string{"testdata/*.yaml", "library/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, path := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("phases: [{}, {exec: 'x', timeout: 1h}, {wait: 1ms}, {pause: true}, {duration: 1s, paths: [/a]}]"))
	f.Add([]byte("target: {headers: {Host: x}}\nidentify: {cookie: a}\ntoken: none"))
	f.Add([]byte("burst: 8\nconcurrency: 8\nsource: {ips: [127.0.0.2-127.0.0.3], move_after: 1}\nhttp2: true\nexpect: {on_backend_loss: strict}"))
	u, _ := url.Parse("http://lb.example/")
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || se.File != "fuzz.yaml" {
				t.Fatalf("error %v (%T) is not a *Error for fuzz.yaml", err, err)
			}
			// YAML breaks lines at \n, \r\n and a lone \r alike.
			breaks := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) - bytes.Count(data, []byte("\r\n"))
			if lines := breaks + 2; se.Line < 0 || se.Line > lines {
				t.Fatalf("error line %d outside the input's %d lines: %v", se.Line, lines, err)
			}
			return
		}
		s := file.Spec
		if len(s.URLs) == 0 {
			if err := file.RequireTarget(s); err == nil {
				t.Fatal("RequireTarget accepted a spec without URLs")
			}
			s.URLs = append(s.URLs, u)
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse accepted a scenario Validate rejects: %v\n%s", err, data)
		}
		plan := s.Plan()
		if len(plan) == 0 {
			t.Fatal("empty plan")
		}
		for _, p := range plan {
			if p.Kind == PhaseRequests && p.Requests == 0 && p.Duration == 0 {
				t.Fatalf("requests phase %q without a count or duration after Plan", p.Name)
			}
		}
	})
}
