package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
	"go.yaml.in/yaml/v3"
)

// deployCommand is one stickyprobe command line found in deploy/.
type deployCommand struct {
	file string
	args []string // subcommand first
}

// deployCommands collects the ExecStart lines of the systemd units and the
// container args of the Kubernetes manifests.
func deployCommands(t *testing.T) []deployCommand {
	t.Helper()
	var out []deployCommand
	units, _ := filepath.Glob("../../deploy/systemd/*.service")
	for _, u := range units {
		data, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		joined := strings.ReplaceAll(string(data), "\\\n", " ")
		for _, line := range strings.Split(joined, "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "ExecStart="); ok {
				f := strings.Fields(rest)
				out = append(out, deployCommand{file: u, args: f[1:]})
			}
		}
	}
	manifests, _ := filepath.Glob("../../deploy/kubernetes/*.yaml")
	for _, m := range manifests {
		data, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range bytes.Split(data, []byte("\n---\n")) {
			var v any
			if err := yaml.Unmarshal(doc, &v); err != nil {
				t.Fatalf("%s: %v", m, err)
			}
			for _, args := range findArgs(v) {
				out = append(out, deployCommand{file: m, args: args})
			}
		}
	}
	if len(out) < 4 {
		t.Fatalf("found %d stickyprobe commands in deploy/, want the 2 units' and the 2 manifests'", len(out))
	}
	return out
}

// findArgs returns every "args" list of strings in a decoded YAML tree.
func findArgs(v any) [][]string {
	var out [][]string
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if list, ok := x.([]any); ok && k == "args" {
				var args []string
				for _, a := range list {
					s, _ := a.(string)
					args = append(args, s)
				}
				out = append(out, args)
				continue
			}
			out = append(out, findArgs(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, findArgs(x)...)
		}
	}
	return out
}

// TestDeployFlagsExist parses every command line of deploy/ with the real
// CLI and its validation, without probing anything: a renamed flag or a
// bad value breaks this test, not a user's deploy.
func TestDeployFlagsExist(t *testing.T) {
	for _, dc := range deployCommands(t) {
		t.Run(filepath.Base(dc.file)+"/"+dc.args[0], func(t *testing.T) {
			var stderr bytes.Buffer
			app := newApp(io.Discard, &stderr)
			checked := false
			for _, cmd := range app.Commands {
				switch cmd.Name {
				case "monitor":
					cmd.Action = func(c *cli.Context) error {
						checked = true
						_, err := monitorConfigFromFlags(c)
						return err
					}
				case "run":
					// The textfile directory is the target host's, not this one's.
					cmd.Action = func(c *cli.Context) error {
						checked = true
						if p := c.String("prom-textfile"); p != "" && (!filepath.IsAbs(p) || !strings.HasSuffix(p, ".prom")) {
							t.Errorf("--prom-textfile %q: want an absolute path ending in .prom", p)
						}
						_, _, err := specFromFlags(c, nil, c.Args().Slice())
						return err
					}
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := app.RunContext(ctx, append([]string{"stickyprobe"}, dc.args...)); err != nil || !checked {
				t.Errorf("%s: stickyprobe %s: %v (validated: %v)\n%s", dc.file, strings.Join(dc.args, " "), err, checked, stderr.String())
			}
		})
	}
}
