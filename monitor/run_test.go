package monitor

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/lab/labrun"
)

func TestCheckNamesTheFlag(t *testing.T) {
	ok := Config{Every: time.Second, Scenario: "s", MaxBackends: 1, LogFormat: "text"}
	if err := ok.Check(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for flag, change := range map[string]func(*Config){
		"--every":          func(c *Config) { c.Every = time.Millisecond },
		"--jitter":         func(c *Config) { c.Jitter = 0.6 },
		"--log-format":     func(c *Config) { c.LogFormat = "xml" },
		"--listen":         func(c *Config) { c.Listen = "9341" },
		"--prom-textfile":  func(c *Config) { c.Textfile = "/nonexistent-dir/x.prom" },
		"--max-backends":   func(c *Config) { c.MaxBackends = 0 },
		"--scenario-label": func(c *Config) { c.Scenario = "" },
	} {
		c := ok
		change(&c)
		if err := c.Check(); err == nil || !strings.HasPrefix(err.Error(), flag) {
			t.Errorf("%s: %v, want an error naming it", flag, err)
		}
	}
}

// TestRunTwoCyclesAgainstRealHAProxy runs the monitor against a real
// textbook haproxy: two cycles, each logged and passed, the textfile
// written, and a taken --listen port refused as a CannotRunError.
func TestRunTwoCyclesAgainstRealHAProxy(t *testing.T) {
	p, _ := lab.LBPresetByName("textbook")
	backends, err := lab.StartBackends(3, p.Backend)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.StopBackends(backends)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := lab.StartNode(ctx, p.Config, backends) // a missing haproxy fails here
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	cfg := Config{Spec: labrun.Spec([]int{h.Port()}, 6, 3), Scenario: "t", Every: 300 * time.Millisecond, MaxBackends: 5,
		Cycles: 2, LogFormat: "text", Listen: "127.0.0.1:0", Textfile: filepath.Join(t.TempDir(), "m.prom")}
	if err := cfg.Check(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Fit(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := Run(ctx, cfg, &log); err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	out := log.String()
	if strings.Count(out, "msg=cycle ") != 2 || strings.Count(out, "verdict=pass") != 2 || !strings.Contains(out, `reason="--cycles 2 done"`) {
		t.Errorf("want two passed cycles and the stop:\n%s", out)
	}
	tf, err := os.ReadFile(cfg.Textfile)
	if err != nil || !strings.Contains(string(tf), `stickyprobe_cycles_total{scenario="t",verdict="pass"} 2`) {
		t.Errorf("textfile %v:\n%s", err, tf)
	}

	cfg.Listen = "127.0.0.1:" + strconv.Itoa(h.Port()) // haproxy's own port: taken
	err = Run(ctx, cfg, &log)
	var cr *CannotRunError
	if !errors.As(err, &cr) || !strings.Contains(err.Error(), "--listen") {
		t.Errorf("taken --listen: %v, want a CannotRunError naming --listen", err)
	}
}
