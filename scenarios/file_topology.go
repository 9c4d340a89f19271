package scenarios

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// topology reads the keys of several frontends, source addresses and the
// first-request burst:
//
//	target: {urls: [...], frontends: rotate}
//	source: {ips: 127.0.0.2-127.0.0.41, move_after: 5}
//	burst: 6
//	http2: true
func (d *decoder) topology(s *Spec, fields map[string]field) error {
	if x, ok := fields["source"]; ok {
		if err := d.source(s, x); err != nil {
			return err
		}
	}
	if x, ok := fields["burst"]; ok {
		v, err := d.integer(x, "burst", 0, MaxBurst)
		if err != nil {
			return err
		}
		s.Burst = int(v)
	}
	if x, ok := fields["http2"]; ok {
		v, err := d.boolean(x, "http2")
		if err != nil {
			return err
		}
		s.HTTP2 = v
	}
	return nil
}

// source accepts {ips: ..., move_after: N}, or the ips alone: a string
// ("127.0.0.2-127.0.0.41,10.0.0.5") or a list of addresses and ranges.
func (d *decoder) source(s *Spec, x field) error {
	ips := x
	key := "source"
	if x.val.Kind == yaml.MappingNode {
		fields, err := d.fields(x.val, "source", "ips", "move_after")
		if err != nil {
			return err
		}
		if m, ok := fields["move_after"]; ok {
			v, err := d.integer(m, "source.move_after", 0, MaxRequests)
			if err != nil {
				return err
			}
			s.SourceMoveAfter = int(v)
		}
		var found bool
		if ips, found = fields["ips"]; !found {
			return d.errorf(x.val, "source.ips", "missing: give the addresses sessions are bound to, e.g. ips: 127.0.0.2-127.0.0.41")
		}
		key = "source.ips"
	}
	vals, _, err := d.strs(ips, key)
	if err != nil {
		return err
	}
	pool, err := ParseSourceIPs(strings.Join(vals, ","))
	if err != nil {
		return d.errorf(ips.val, key, "%s", flagless(err, "--source-ips"))
	}
	s.SourceIPs = pool
	return nil
}

// lossPolicy reads expect.on_backend_loss.
func (d *decoder) lossPolicy(s *Spec, x field) error {
	v, err := d.str(x, "expect.on_backend_loss")
	if err != nil {
		return err
	}
	if s.OnBackendLoss, err = ParseLossPolicy(v); err != nil {
		return d.errorf(x.val, "expect.on_backend_loss", "%v", err)
	}
	return nil
}

// frontendPolicy reads target.frontends.
func (d *decoder) frontendPolicy(s *Spec, x field) error {
	v, err := d.str(x, "target.frontends")
	if err != nil {
		return err
	}
	if s.Frontends, err = ParseFrontendPolicy(v); err != nil {
		return d.errorf(x.val, "target.frontends", "%v", err)
	}
	return nil
}

// checkTopology checks what spans the topology keys and the others (a
// burst within the concurrency, moves within the source pool), so a file
// cannot get past the decoder with settings every run of it would refuse.
// The error is the key's whose value the message names first.
func (d *decoder) checkTopology(s *Spec, fields map[string]field) error {
	err := s.validateTopology()
	if err == nil {
		return nil
	}
	msg := strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
	for _, k := range []struct{ flag, key string }{
		{"--burst", "burst"}, {"--source", "source"}, {"--http2", "http2"}, {"--min-backends", "expect"}, {"--max-imbalance", "expect"},
	} {
		if x, ok := fields[k.key]; ok && strings.HasPrefix(msg, k.flag) {
			return d.errorf(x.val, k.key, "%s", fileWords.Replace(msg))
		}
	}
	for _, key := range []string{"burst", "source", "http2", "conn", "concurrency", "phases"} {
		if x, ok := fields[key]; ok {
			return d.errorf(x.val, key, "%s", fileWords.Replace(msg))
		}
	}
	return d.errorf(nil, "", "%s", fileWords.Replace(msg))
}
