package scenarios

import (
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// haproxyConfig reads haproxy_config: the HAProxy config(s) of the LB the
// scenario probes (a path or a list, one per LB node), for the report to
// tie causes to config lines as `run --haproxy-config` does. A relative
// path is relative to the scenario file, so the two can travel together.
func (d *decoder) haproxyConfig(f *File, fields map[string]field) error {
	x, ok := fields["haproxy_config"]
	if !ok {
		return nil
	}
	paths, nodes, err := d.strs(x, "haproxy_config")
	if err != nil {
		return err
	}
	for i, p := range paths {
		if p == "" {
			return d.errorf(nodes[i], itemKey(x, "haproxy_config", i), "empty path")
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(d.file), p)
		}
		f.HAProxyConfig = append(f.HAProxyConfig, p)
	}
	f.HAProxyConfigLine = x.key.Line
	if e, ok := fields["expect"]; ok && e.val.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(e.val.Content); i += 2 {
			if e.val.Content[i].Value == "on_backend_loss" {
				f.LossPolicySet = true
			}
		}
	}
	return nil
}
