package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

// The state file of --save-state and --resume: the sessions of a run, so a
// later process can continue them (probe, restart, probe again, across two
// CI steps). It holds the sessions' cookie jars, which may include the
// application's session cookies: it is written with mode 0600 and its
// contents are never printed.

const stateSchema = "stickyprobe.state/v1"

// maxStateSize bounds what --resume reads: a million sessions with a few
// cookies each.
const maxStateSize = 1 << 30

type stateFile struct {
	Schema    string    `json:"schema"`
	Note      string    `json:"note"`
	Saved     time.Time `json:"saved"`
	Scenario  string    `json:"scenario,omitempty"`
	Targets   []string  `json:"targets"`
	Identify  string    `json:"identify"`
	Token     string    `json:"token"`
	TokenName string    `json:"token_name,omitempty"`
	Sessions  int       `json:"sessions"`
	Control   int       `json:"control"`
	// How sessions reach the frontends: the same frontend and source
	// address for each session's next request depend on them.
	Frontends string         `json:"frontends,omitempty"`
	SourceIPs string         `json:"source_ips,omitempty"`
	States    []savedSession `json:"session_states"`
}

// savedSession is a session as the probe continues it and as the report
// judges it.
type savedSession struct {
	probe.SessionState
	report.Carried
}

const stateNote = "Cookie jars of a stickyprobe run, application session cookies included: keep this file private."

// saveState writes the run's sessions to path atomically, readable by the
// owner only.
func saveState(path string, spec scenarios.Spec, runner *probe.Runner, summary *report.Summary) error {
	st := stateFile{
		Schema: stateSchema, Note: stateNote, Saved: time.Now().UTC(), Scenario: spec.Name,
		Targets: rawTargets(spec), Identify: spec.Identify.String(), Token: spec.Token.String(),
		TokenName: runner.TokenName(), Sessions: spec.Sessions, Control: spec.Control(),
		Frontends: string(spec.Frontends), SourceIPs: spec.SourceIPs.String(),
	}
	for _, s := range runner.Snapshot() {
		st.States = append(st.States, savedSession{SessionState: s, Carried: summary.Carry(s.ID)})
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".stickyprobe-state-*") // mode 0600
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	if err := enc.Encode(&st); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Chmod(path, 0o600)
}

func loadState(path string) (*stateFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	}
	defer f.Close()
	var st stateFile
	dec := json.NewDecoder(io.LimitReader(f, maxStateSize))
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("--resume %s: not a stickyprobe state file: %v", path, err)
	}
	if st.Schema != stateSchema {
		return nil, fmt.Errorf("--resume %s: schema %q, want %q", path, st.Schema, stateSchema)
	}
	if st.Sessions < 1 || st.Control < 0 || len(st.States) != st.Sessions+st.Control {
		return nil, fmt.Errorf("--resume %s: %d session states for %d sessions and %d control", path, len(st.States), st.Sessions, st.Control)
	}
	return &st, nil
}

// resumeInto loads --resume's state, if given, and makes the spec continue
// it: same targets, sessions, control group, identity and token. A flag
// that contradicts the state is an error rather than a silent surprise.
func resumeInto(c *cli.Context, spec *scenarios.Spec) (*stateFile, error) {
	path := c.String("resume")
	if path == "" {
		return nil, nil
	}
	st, err := loadState(path)
	if err != nil {
		return nil, err
	}
	conflict := func(flag, got, saved string) error {
		return fmt.Errorf("--resume %s: the sessions were saved with %s %s, not %s", path, flag, saved, got)
	}
	if len(spec.URLs) == 0 {
		if err := applyURLs(spec, st.Targets); err != nil {
			return nil, fmt.Errorf("--resume %s: %w", path, err)
		}
	} else if got := rawTargets(*spec); !slices.Equal(got, st.Targets) {
		return nil, conflict("targets", fmt.Sprint(got), fmt.Sprint(st.Targets))
	}
	if c.IsSet("sessions") && spec.Sessions != st.Sessions {
		return nil, conflict("--sessions", fmt.Sprint(spec.Sessions), fmt.Sprint(st.Sessions))
	}
	if c.IsSet("control") && spec.Control() != st.Control {
		return nil, conflict("--control", fmt.Sprint(spec.Control()), fmt.Sprint(st.Control))
	}
	spec.Sessions, spec.ControlSessions = st.Sessions, st.Control
	if c.IsSet("token") && spec.Token.String() != st.Token {
		return nil, conflict("--token", spec.Token.String(), st.Token)
	}
	if c.IsSet("id") && spec.Identify.String() != st.Identify {
		return nil, conflict("--id", spec.Identify.String(), st.Identify)
	}
	if c.IsSet("source-ips") && spec.SourceIPs.String() != st.SourceIPs {
		return nil, conflict("--source-ips", spec.SourceIPs.String(), orDash(st.SourceIPs))
	}
	if spec.SourceIPs, err = scenarios.ParseSourceIPs(st.SourceIPs); err != nil {
		return nil, fmt.Errorf("--resume %s: %w", path, err)
	}
	if st.Frontends != "" && !c.IsSet("frontends") {
		if spec.Frontends, err = scenarios.ParseFrontendPolicy(st.Frontends); err != nil {
			return nil, fmt.Errorf("--resume %s: %w", path, err)
		}
	}
	if spec.Token, err = scenarios.ParseToken(st.Token); err != nil {
		return nil, fmt.Errorf("--resume %s: %w", path, err)
	}
	if spec.Identify, err = scenarios.ParseIdentify(st.Identify); err != nil {
		return nil, fmt.Errorf("--resume %s: %w", path, err)
	}
	return st, nil
}

// apply continues the saved sessions in the runner and the summary.
func (st *stateFile) apply(runner *probe.Runner, summary *report.Summary) error {
	states := make([]probe.SessionState, len(st.States))
	for i, s := range st.States {
		states[i] = s.SessionState
	}
	if err := runner.Restore(states, st.TokenName); err != nil {
		return errors.New("--resume: " + err.Error())
	}
	for _, s := range st.States {
		summary.Resume(s.ID, s.Control, s.Carried)
	}
	return nil
}
