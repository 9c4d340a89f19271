package hacheck

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stickyprobe/stickyprobe/hacfg"
	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
)

// TestLabMistakes: check-config finds each of the lab's broken setups in
// the config the lab generates for it, with the cause it predicts; the
// real haproxy -c accepts every one HAProxy starts, and refuses the rest.
func TestLabMistakes(t *testing.T) {
	backends := labBackends(t)
	bin, err := lab.FindHAProxy()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	seen := map[string]bool{}
	for _, m := range lab.Mistakes() {
		if m.Config.Peers {
			m.Config.PeersPort = 18081
		}
		text, err := m.Config.Render(18080, backends)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		path := filepath.Join(dir, m.Name+".cfg")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := hacfg.ParseFile(path, hacfg.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fs := Check([]*hacfg.Config{cfg}, Options{URL: mustURL("http://lab.stickyprobe.test:18080/"), Think: m.Think})
		f, ok := find(fs, m.Finding)
		if !ok || f.Cause != report.Cause(m.Cause) || f.Backend != "be_app" {
			t.Errorf("%s: findings %v, want %s with cause %q (got %+v)", m.Name, ids(fs), m.Finding, m.Cause, f)
		}
		seen[m.Finding] = true
		hf, err := HAProxyCheck(context.Background(), bin, cfg, "stickyprobe-lab")
		if err != nil {
			t.Fatal(err)
		}
		refused := Worst(hf) == SevError
		if refused == m.Starts {
			t.Errorf("%s: haproxy -c %+v, but Starts is %v", m.Name, hf, m.Starts)
		}
	}
	if len(seen) < 15 {
		t.Errorf("the mistakes cover %d findings: %v", len(seen), seen)
	}
}
