package scenarios

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

var phaseKeys = []string{
	"name", "requests", "duration", "think", "paths",
	"exec", "timeout", "allow_failure", "wait", "pause",
}

// kindKeys says which keys make a phase of each kind; a phase without any
// of them is a requests phase with the scenario's settings.
var kindKeys = []struct {
	kind PhaseKind
	keys []string
}{
	{PhaseRequests, []string{"requests", "duration", "think", "paths"}},
	{PhaseExec, []string{"exec", "timeout", "allow_failure"}},
	{PhaseWait, []string{"wait"}},
	{PhasePause, []string{"pause"}},
}

func (d *decoder) expect(s *Spec, x field) error {
	fields, err := d.fields(x.val, "expect", "stickiness", "max_error_rate", "min_backends", "max_imbalance", "on_backend_loss")
	if err != nil {
		return err
	}
	if f, ok := fields["min_backends"]; ok {
		v, err := d.integer(f, "expect.min_backends", -1, MaxSessions)
		if err != nil {
			return err
		}
		s.MinBackends = int(v)
	}
	if f, ok := fields["max_imbalance"]; ok {
		if s.MaxImbalance, err = d.number(f, "expect.max_imbalance", 0, MaxSessions); err != nil {
			return err
		}
		if s.MaxImbalance > 0 && s.MaxImbalance < 1 {
			return d.errorf(f.val, "expect.max_imbalance", "%s: want 0 (no check) or a ratio of at least 1 (largest share ÷ fair share)", f.val.Value)
		}
	}
	if f, ok := fields["on_backend_loss"]; ok {
		if err := d.lossPolicy(s, f); err != nil {
			return err
		}
	}
	if f, ok := fields["stickiness"]; ok {
		if s.MinStickiness, err = d.number(f, "expect.stickiness", 0, 1); err != nil {
			return err
		}
	}
	if f, ok := fields["max_error_rate"]; ok {
		if s.MaxErrorRate, err = d.number(f, "expect.max_error_rate", 0, 1); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) phases(s *Spec, x field) error {
	if x.val.Kind != yaml.SequenceNode {
		return d.errorf(x.val, "phases", "want a list of phases, got %s", describe(x.val))
	}
	if len(x.val.Content) == 0 {
		return d.errorf(x.val, "phases", "empty list: give at least one phase, or leave phases out for one requests phase")
	}
	if len(x.val.Content) > MaxPhases {
		return d.errorf(x.val, "phases", "%d phases, at most %d", len(x.val.Content), MaxPhases)
	}
	names := make(map[string]bool)
	for i, n := range x.val.Content {
		key := fmt.Sprintf("phases[%d]", i)
		p, err := d.phase(n, key, i)
		if err != nil {
			return err
		}
		if names[p.Name] {
			return d.errorf(n, key+".name", "%q is the name of an earlier phase", p.Name)
		}
		names[p.Name] = true
		s.Phases = append(s.Phases, p)
	}
	return nil
}

func (d *decoder) phase(n *yaml.Node, key string, i int) (Phase, error) {
	p := Phase{Name: fmt.Sprintf("phase%d", i+1), Kind: PhaseRequests}
	fields, err := d.fields(n, key, phaseKeys...)
	if err != nil {
		return p, err
	}
	// The kind is the one whose keys are present; keys of two kinds in
	// one phase are a mistake worth naming.
	var kindKey *field
	kindName := ""
	for _, k := range kindKeys {
		for _, name := range k.keys {
			f, ok := fields[name]
			if !ok {
				continue
			}
			if kindKey != nil && p.Kind != k.kind {
				return p, d.errorf(f.key, key+"."+name, "%s and %s in one phase: a phase does one thing, split it in two", kindName, name)
			}
			if kindKey == nil {
				kindKey, kindName = &f, name
				p.Kind = k.kind
			}
		}
	}
	if f, ok := fields["name"]; ok {
		if p.Name, err = d.str(f, key+".name"); err != nil {
			return p, err
		}
		if err := checkName(p.Name); err != nil {
			return p, d.errorf(f.val, key+".name", "%v", err)
		}
	}
	switch p.Kind {
	case PhaseRequests:
		err = d.requestsPhase(&p, fields, key)
	case PhaseExec:
		err = d.execPhase(&p, fields, key)
	case PhaseWait:
		p.Wait, err = d.duration(fields["wait"], key+".wait", time.Millisecond, maxPhaseWait)
	case PhasePause:
		f := fields["pause"]
		switch {
		case f.val.Kind == yaml.ScalarNode && f.val.Tag == "!!str":
			p.Prompt = f.val.Value
		case f.val.Kind == yaml.ScalarNode && f.val.Tag == "!!bool" && f.val.Value == "true":
		default:
			err = d.errorf(f.val, key+".pause", "want true or a message to show, got %s", describe(f.val))
		}
	}
	return p, err
}

func (d *decoder) requestsPhase(p *Phase, fields map[string]field, key string) error {
	var err error
	r, hasR := fields["requests"]
	du, hasD := fields["duration"]
	if hasR && hasD {
		return d.errorf(du.key, key+".duration", "requests and duration both given; a phase sends a count or runs for a time")
	}
	if hasR {
		v, err := d.integer(r, key+".requests", 1, MaxRequests)
		if err != nil {
			return err
		}
		p.Requests = int(v)
	}
	if hasD {
		if p.Duration, err = d.duration(du, key+".duration", time.Millisecond, maxPhaseWait); err != nil {
			return err
		}
	}
	if f, ok := fields["think"]; ok {
		think, err := d.duration(f, key+".think", 0, maxPhaseWait)
		if err != nil {
			return err
		}
		p.Think = &think
	}
	if f, ok := fields["paths"]; ok {
		paths, nodes, err := d.strs(f, key+".paths")
		if err != nil {
			return err
		}
		if len(paths) == 0 || len(paths) > MaxPaths {
			return d.errorf(f.val, key+".paths", "want 1..%d paths, got %d", MaxPaths, len(paths))
		}
		for i, path := range paths {
			if err := CheckPath(path); err != nil {
				return d.errorf(nodes[i], itemKey(f, key+".paths", i), "%v", err)
			}
		}
		p.Paths = paths
	}
	return nil
}

func (d *decoder) execPhase(p *Phase, fields map[string]field, key string) error {
	var err error
	f, ok := fields["exec"]
	if !ok {
		// timeout or allow_failure without the command itself
		for _, k := range []string{"timeout", "allow_failure"} {
			if f, ok := fields[k]; ok {
				return d.errorf(f.key, key+"."+k, "only an exec phase has %s, and this phase has no exec command", k)
			}
		}
	}
	if p.Command, err = d.str(f, key+".exec"); err != nil {
		return err
	}
	if p.Command == "" || p.Command[0] == 0 || len(p.Command) > 64<<10 {
		return d.errorf(f.val, key+".exec", "want a shell command of 1 to 65536 bytes")
	}
	for _, c := range p.Command {
		if c == 0 {
			return d.errorf(f.val, key+".exec", "the command contains a NUL byte")
		}
	}
	if t, ok := fields["timeout"]; ok {
		if p.Timeout, err = d.duration(t, key+".timeout", time.Millisecond, maxPhaseWait); err != nil {
			return err
		}
	}
	if a, ok := fields["allow_failure"]; ok {
		if p.AllowFailure, err = d.boolean(a, key+".allow_failure"); err != nil {
			return err
		}
	}
	return nil
}
