package deploy

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// unit is a parsed systemd unit file: section → key → values (a key may
// repeat).
type unit map[string]map[string][]string

// knownKeys are the keys this project's units may use, per section: a
// misspelt key is only a warning to systemd, and a silently dropped
// hardening or restart setting.
var knownKeys = map[string][]string{
	"Unit":    {"Description", "Documentation", "Wants", "After", "Requires"},
	"Install": {"WantedBy"},
	"Timer":   {"OnCalendar", "RandomizedDelaySec", "Persistent", "Unit", "OnBootSec", "OnUnitActiveSec"},
	"Service": {"Type", "ExecStart", "KillSignal", "TimeoutStopSec", "TimeoutStartSec", "Restart", "RestartSec",
		"MemoryMax", "DynamicUser", "User", "NoNewPrivileges", "CapabilityBoundingSet", "ProtectSystem",
		"ReadWritePaths", "ProtectHome", "PrivateTmp", "PrivateDevices", "ProtectKernelTunables",
		"ProtectKernelModules", "ProtectControlGroups", "ProtectClock", "RestrictAddressFamilies",
		"RestrictNamespaces", "RestrictRealtime", "LockPersonality", "MemoryDenyWriteExecute",
		"SystemCallArchitectures", "SuccessExitStatus"},
}

// parseUnit reads a unit the way systemd does for the parts used here:
// comments, [Section] headers, Key=Value, and lines continued with a
// trailing backslash.
func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	lineNo := 0
	var pending string
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if pending != "" {
			line = pending + " " + line
			pending = ""
		}
		if c, ok := strings.CutSuffix(line, `\`); ok {
			pending = strings.TrimSpace(c)
			continue
		}
		switch {
		case line == "", strings.HasPrefix(line, "#"), strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			if _, ok := knownKeys[section]; !ok {
				t.Errorf("%s:%d: unknown section [%s]", path, lineNo, section)
			}
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Errorf("%s:%d: %q is not Key=Value inside a section", path, lineNo, line)
				continue
			}
			k = strings.TrimSpace(k)
			if !slices.Contains(knownKeys[section], k) {
				t.Errorf("%s:%d: key %s is not one [%s] is expected to have", path, lineNo, k, section)
			}
			u[section][k] = append(u[section][k], strings.TrimSpace(v))
		}
	}
	if pending != "" {
		t.Errorf("%s: ends inside a continued line", path)
	}
	return u
}

func (u unit) get(t *testing.T, section, key string) string {
	t.Helper()
	v := u[section][key]
	if len(v) != 1 {
		t.Fatalf("[%s] %s: %d values, want 1", section, key, len(v))
	}
	return v[0]
}

// execArgs splits ExecStart into the binary, the subcommand and the rest.
func execArgs(t *testing.T, u unit) (bin, sub string, args []string) {
	t.Helper()
	f := strings.Fields(u.get(t, "Service", "ExecStart"))
	if len(f) < 3 {
		t.Fatalf("ExecStart %v: want binary, subcommand, target", f)
	}
	return f[0], f[1], f[2:]
}

func TestSystemdUnits(t *testing.T) {
	mon := parseUnit(t, "systemd/stickyprobe-monitor.service")
	smoke := parseUnit(t, "systemd/stickyprobe-smoke.service")
	timer := parseUnit(t, "systemd/stickyprobe-smoke.timer")

	bin, sub, args := execArgs(t, mon)
	if bin != "/usr/local/bin/stickyprobe" || sub != "monitor" {
		t.Errorf("monitor ExecStart runs %s %s", bin, sub)
	}
	if listen, _ := flagValue(args, "listen"); !strings.HasPrefix(listen, "127.0.0.1:") {
		t.Errorf("monitor --listen %q: a host service should serve metrics on loopback unless told otherwise", listen)
	}
	if mon.get(t, "Service", "KillSignal") != "SIGTERM" || mon.get(t, "Service", "Restart") != "on-failure" {
		t.Error("monitor: want SIGTERM to stop it (it exits 0) and a restart on failure")
	}
	if mon.get(t, "Install", "WantedBy") != "multi-user.target" {
		t.Error("monitor: not enabled at boot")
	}

	bin, sub, args = execArgs(t, smoke)
	if bin != "/usr/local/bin/stickyprobe" || sub != "run" || smoke.get(t, "Service", "Type") != "oneshot" {
		t.Errorf("smoke ExecStart runs %s %s, want a oneshot `run`", bin, sub)
	}
	path, ok := flagValue(args, "prom-textfile")
	rw := smoke.get(t, "Service", "ReadWritePaths")
	if !ok || !strings.HasSuffix(path, ".prom") || filepath.Dir(path) != rw {
		t.Errorf("--prom-textfile %q must end in .prom (the collector's glob) and sit in ReadWritePaths %q (ProtectSystem=strict)", path, rw)
	}
	if got := smoke.get(t, "Service", "SuccessExitStatus"); got != "1 4 130" {
		t.Errorf("SuccessExitStatus %q: a fail (1) or inconclusive (4) verdict is a finding in the metrics, and a stop (130) no failure of the unit", got)
	}

	if u := timer.get(t, "Timer", "Unit"); u != "stickyprobe-smoke.service" {
		t.Errorf("timer starts %s", u)
	} else if _, err := os.Stat(filepath.Join("systemd", u)); err != nil {
		t.Errorf("timer's unit: %v", err)
	}
	if timer.get(t, "Timer", "OnCalendar") == "" || timer.get(t, "Install", "WantedBy") != "timers.target" {
		t.Error("timer: want OnCalendar and WantedBy=timers.target")
	}
}

// TestSystemdAnalyzeVerify runs systemd's own checker where it exists.
// ExecStart's /usr/local/bin/stickyprobe is swapped for /bin/true in a
// copy: verify insists that the binary exists, and what it runs is
// checked by cmd/stickyprobe's TestDeployFlagsExist.
func TestSystemdAnalyzeVerify(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: the units were checked by TestSystemdUnits' parser only")
		return
	}
	dir := t.TempDir()
	units, _ := filepath.Glob("systemd/*")
	var names []string
	for _, u := range units {
		data, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		data = []byte(strings.ReplaceAll(string(data), "/usr/local/bin/stickyprobe", "/bin/true"))
		name := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool, append([]string{"verify"}, names...)...).CombinedOutput()
	// Unknown keys and bad values are only warnings: any output is a failure.
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
