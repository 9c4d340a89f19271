package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds a scenario file; real ones are a few hundred bytes.
const MaxFileSize = 1 << 20

// File is a parsed scenario file.
type File struct {
	Source      string // the name errors are reported against
	Name        string
	Description string
	// Spec is Default overlaid with the file's values. Its URLs may be
	// empty: a scenario can leave the target to the command line.
	Spec Spec

	targetLine int // line of the target key, 0 when absent

	// HAProxyConfig are the haproxy_config paths (relative ones made
	// relative to the file), HAProxyConfigLine the key's line; a run
	// reads them as `run --haproxy-config`. LossPolicySet says that
	// expect.on_backend_loss is given, so the config must not override it.
	HAProxyConfig     []string
	HAProxyConfigLine int
	LossPolicySet     bool
}

var topKeys = []string{
	"name", "description", "target", "identify", "token", "conn",
	"sessions", "control", "requests", "concurrency", "rate", "think",
	"timeout", "max_duration", "seed", "expect", "phases",
	"source", "burst", "http2", "haproxy_config",
}

// Load reads and parses a scenario file.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Parse(path, data)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse decodes a scenario strictly: an unknown key, a value of the wrong
// type, a bad duration or an invalid regex is an *Error naming source, the
// line and the key. A missing target is not an error here (see
// RequireTarget), since URLs may come from the command line.
func Parse(source string, data []byte) (*File, error) {
	d := &decoder{file: source}
	if len(data) > MaxFileSize {
		return nil, d.errorf(nil, "", "larger than %d bytes", MaxFileSize)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, d.errorf(nil, "", "empty: a scenario needs at least a target or a phase")
		}
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &Error{File: source, Line: line, Msg: "YAML syntax: " + m[2]}
		}
		return nil, d.errorf(nil, "", "YAML syntax: %s", strings.TrimPrefix(msg, "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, d.errorf(&extra, "", "more than one YAML document; a file holds one scenario")
	}
	if len(doc.Content) != 1 {
		return nil, d.errorf(&doc, "", "empty: a scenario needs at least a target or a phase")
	}
	root := doc.Content[0]
	if err := d.checkTree(root, 0); err != nil {
		return nil, err
	}
	fields, err := d.fields(root, "", topKeys...)
	if err != nil {
		return nil, err
	}
	f := &File{Source: source, Spec: Default()}
	if err := d.top(f, fields); err != nil {
		return nil, err
	}
	f.Spec.Name = f.Name
	return f, nil
}

// RequireTarget reports a spec without target URLs as an error of this
// file, once the command line had its chance to give them.
func (f *File) RequireTarget(s Spec) error {
	if len(s.URLs) > 0 {
		return nil
	}
	line := f.targetLine
	if line == 0 {
		line = 1
	}
	return &Error{File: f.Source, Line: line, Key: "target", Msg: "no URL: give target.urls in the file, or URLs on the command line"}
}

func (d *decoder) top(f *File, fields map[string]field) error {
	s := &f.Spec
	var err error
	if x, ok := fields["name"]; ok {
		if f.Name, err = d.str(x, "name"); err != nil {
			return err
		}
		if err := checkName(f.Name); err != nil {
			return d.errorf(x.val, "name", "%v", err)
		}
	}
	if x, ok := fields["description"]; ok {
		if f.Description, err = d.str(x, "description"); err != nil {
			return err
		}
	}
	if x, ok := fields["target"]; ok {
		f.targetLine = x.key.Line
		if err := d.target(s, x); err != nil {
			return err
		}
	}
	if x, ok := fields["identify"]; ok {
		if s.Identify, err = choice(d, x, "identify", "--id", ParseIdentify, "header", "cookie", "body"); err != nil {
			return err
		}
	}
	if x, ok := fields["token"]; ok {
		if s.Token, err = choice(d, x, "token", "--token", ParseToken, "cookie"); err != nil {
			return err
		}
	}
	if x, ok := fields["conn"]; ok {
		v, err := d.str(x, "conn")
		if err != nil {
			return err
		}
		if s.Conn, err = ParseConnPolicy(v); err != nil {
			return d.errorf(x.val, "conn", "%v", err)
		}
	}
	ints := []struct {
		key    string
		lo, hi int64
		dst    *int
	}{
		{"sessions", 1, MaxSessions, &s.Sessions},
		{"control", -1, MaxSessions, &s.ControlSessions},
		{"requests", 1, MaxRequests, &s.Requests},
		{"concurrency", 1, MaxConcurrency, &s.Concurrency},
	}
	for _, n := range ints {
		if x, ok := fields[n.key]; ok {
			v, err := d.integer(x, n.key, n.lo, n.hi)
			if err != nil {
				return err
			}
			*n.dst = int(v)
		}
	}
	if x, ok := fields["seed"]; ok {
		if s.Seed, err = d.integer(x, "seed", math.MinInt64, math.MaxInt64); err != nil {
			return err
		}
	}
	if x, ok := fields["rate"]; ok {
		if s.Rate, err = d.number(x, "rate", 0, math.MaxFloat64); err != nil {
			return err
		}
	}
	durations := []struct {
		key    string
		lo, hi time.Duration
		dst    *time.Duration
	}{
		{"think", 0, maxPhaseWait, &s.Think},
		{"timeout", time.Millisecond, maxPhaseWait, &s.Timeout},
		{"max_duration", time.Millisecond, 30 * 24 * time.Hour, &s.MaxDuration},
	}
	for _, n := range durations {
		if x, ok := fields[n.key]; ok {
			if *n.dst, err = d.duration(x, n.key, n.lo, n.hi); err != nil {
				return err
			}
		}
	}
	if err := d.topology(s, fields); err != nil {
		return err
	}
	if err := d.haproxyConfig(f, fields); err != nil {
		return err
	}
	if x, ok := fields["expect"]; ok {
		if err := d.expect(s, x); err != nil {
			return err
		}
	}
	if x, ok := fields["phases"]; ok {
		if err := d.phases(s, x); err != nil {
			return err
		}
		// What is left to check spans phases and settings (durations
		// against max_duration); per-phase values were checked above.
		if err := s.validatePhases(); err != nil {
			msg := strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
			return d.errorf(x.key, "", "%s", msg)
		}
	}
	return d.checkTopology(s, fields)
}

// target accepts a mapping, or a URL or list of URLs as a shorthand for
// target.urls.
func (d *decoder) target(s *Spec, x field) error {
	if x.val.Kind != yaml.MappingNode {
		return d.urls(s, x, "target")
	}
	fields, err := d.fields(x.val, "target", "urls", "resolve", "headers", "insecure", "frontends")
	if err != nil {
		return err
	}
	if u, ok := fields["urls"]; ok {
		if err := d.urls(s, u, "target.urls"); err != nil {
			return err
		}
	}
	if r, ok := fields["resolve"]; ok {
		vals, nodes, err := d.strs(r, "target.resolve")
		if err != nil {
			return err
		}
		for i, v := range vals {
			rv, err := ParseResolve(v)
			if err != nil {
				return d.errorf(nodes[i], itemKey(r, "target.resolve", i), "%s", flagless(err, "--resolve"))
			}
			s.Resolve = append(s.Resolve, rv)
		}
	}
	if h, ok := fields["headers"]; ok {
		if h.val.Kind != yaml.MappingNode {
			return d.errorf(h.val, "target.headers", "want a mapping of header names to values, got %s", describe(h.val))
		}
		for i := 0; i+1 < len(h.val.Content); i += 2 {
			k, v := h.val.Content[i], h.val.Content[i+1]
			key := "target.headers." + k.Value
			if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
				return d.errorf(v, key, "want a header name and a value, got %s", describe(v))
			}
			hv, err := ParseHeader(k.Value + ":" + v.Value)
			if err != nil {
				return d.errorf(k, key, "%s", flagless(err, "--header"))
			}
			s.Headers = append(s.Headers, hv)
		}
	}
	if in, ok := fields["insecure"]; ok {
		if s.Insecure, err = d.boolean(in, "target.insecure"); err != nil {
			return err
		}
	}
	if f, ok := fields["frontends"]; ok {
		if err := d.frontendPolicy(s, f); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) urls(s *Spec, x field, key string) error {
	vals, nodes, err := d.strs(x, key)
	if err != nil {
		return err
	}
	if len(vals) == 0 {
		return d.errorf(x.val, key, "empty list: give at least one URL")
	}
	for i, v := range vals {
		u, err := ParseURL(v)
		if err != nil {
			return d.errorf(nodes[i], itemKey(x, key, i), "%s", strings.TrimPrefix(err.Error(), "target "))
		}
		s.URLs = append(s.URLs, u)
	}
	return nil
}

// choice reads identify or token: the flag's syntax as a string
// ("header:X-Backend"), or a mapping of one kind to its argument
// ({header: X-Backend}).
func choice[T any](d *decoder, x field, key, flag string, parse func(string) (T, error), kinds ...string) (T, error) {
	var zero T
	raw := ""
	at := x.val
	switch {
	case x.val.Kind == yaml.MappingNode && len(x.val.Content) == 2:
		fields, err := d.fields(x.val, key, kinds...)
		if err != nil {
			return zero, err
		}
		for k, f := range fields {
			v, err := d.str(f, key+"."+k)
			if err != nil {
				return zero, err
			}
			raw, at, key = k+":"+v, f.val, key+"."+k
		}
	case x.val.Kind == yaml.MappingNode:
		return zero, d.errorf(x.val, key, "want one of %s with its argument, got %d keys", strings.Join(kinds, ", "), len(x.val.Content)/2)
	default:
		v, err := d.str(x, key)
		if err != nil {
			return zero, err
		}
		raw = v
	}
	t, err := parse(raw)
	if err != nil {
		return zero, d.errorf(at, key, "%s", flagless(err, flag))
	}
	return t, nil
}
