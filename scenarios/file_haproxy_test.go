package scenarios

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestHAProxyConfigKey(t *testing.T) {
	f, err := Parse(filepath.Join("dir", "s.yaml"), []byte("target: http://lb.example/\nhaproxy_config: [lb1.cfg, /etc/haproxy/haproxy.cfg]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join("dir", "lb1.cfg"), "/etc/haproxy/haproxy.cfg"}; !slices.Equal(f.HAProxyConfig, want) || f.HAProxyConfigLine != 2 || f.LossPolicySet {
		t.Errorf("haproxy_config %q line %d loss set %v; want %q line 2", f.HAProxyConfig, f.HAProxyConfigLine, f.LossPolicySet, want)
	}
	f, err = Parse("s.yaml", []byte("haproxy_config: haproxy.cfg\nexpect: {on_backend_loss: strict}\n"))
	if err != nil || !slices.Equal(f.HAProxyConfig, []string{"haproxy.cfg"}) || !f.LossPolicySet || f.Spec.OnBackendLoss != LossStrict {
		t.Errorf("%+v %v", f, err)
	}
	for _, bad := range []string{"haproxy_config: 3\n", "haproxy_config: [a.cfg, \"\"]\n", "haproxy_config: {a: b}\n"} {
		_, err := Parse("s.yaml", []byte(bad))
		var fe *Error
		if !errors.As(err, &fe) || fe.Line != 1 || !strings.HasPrefix(fe.Key, "haproxy_config") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
