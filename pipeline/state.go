package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/stickyprobe/stickyprobe/internal/atomicfile"
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
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

// State is a saved run's sessions (the state file's content).
type State struct {
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

// saveState writes the run's sessions to f, which is committed
// atomically (it was created 0600: readable by the owner only).
func saveState(f *atomicfile.File, spec scenarios.Spec, runner *probe.Runner, summary *report.Summary, now time.Time) error {
	st := State{
		Schema: stateSchema, Note: stateNote, Saved: now.UTC(), Scenario: spec.Name,
		Targets: RawTargets(spec), Identify: spec.Identify.String(), Token: spec.Token.String(),
		TokenName: runner.TokenName(), Sessions: spec.Sessions, Control: spec.Control(),
		Frontends: string(spec.Frontends), SourceIPs: spec.SourceIPs.String(),
	}
	for _, s := range runner.Snapshot() {
		st.States = append(st.States, savedSession{SessionState: s, Carried: summary.Carry(s.ID)})
	}
	if err := json.NewEncoder(f).Encode(&st); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// LoadState reads a state file that --save-state wrote.
func LoadState(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--resume: %w", err)
	}
	defer f.Close()
	var st State
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

// Into makes spec continue the saved sessions: same targets, sessions,
// control group, identity and token. given says which settings the user
// set (by their flag name, without dashes): one that contradicts the state
// is an error rather than a silent surprise. path names the file in
// messages.
func (st *State) Into(spec *scenarios.Spec, path string, given func(name string) bool) error {
	conflict := func(flag, got, saved string) error {
		return fmt.Errorf("--resume %s: the sessions were saved with %s %s, not %s", path, flag, saved, got)
	}
	if len(spec.URLs) == 0 {
		for _, raw := range st.Targets {
			u, err := scenarios.ParseURL(raw)
			if err != nil {
				return fmt.Errorf("--resume %s: %w", path, err)
			}
			spec.URLs = append(spec.URLs, u)
		}
	} else if got := RawTargets(*spec); !slices.Equal(got, st.Targets) {
		return conflict("targets", fmt.Sprint(got), fmt.Sprint(st.Targets))
	}
	if given("sessions") && spec.Sessions != st.Sessions {
		return conflict("--sessions", fmt.Sprint(spec.Sessions), fmt.Sprint(st.Sessions))
	}
	if given("control") && spec.Control() != st.Control {
		return conflict("--control", fmt.Sprint(spec.Control()), fmt.Sprint(st.Control))
	}
	spec.Sessions, spec.ControlSessions = st.Sessions, st.Control
	if given("token") && spec.Token.String() != st.Token {
		return conflict("--token", spec.Token.String(), st.Token)
	}
	if given("id") && spec.Identify.String() != st.Identify {
		return conflict("--id", spec.Identify.String(), st.Identify)
	}
	if given("source-ips") && spec.SourceIPs.String() != st.SourceIPs {
		return conflict("--source-ips", spec.SourceIPs.String(), OrDash(st.SourceIPs))
	}
	return st.settings(spec, path, given)
}

// settings sets the spec's topology, token and identity to the saved ones.
func (st *State) settings(spec *scenarios.Spec, path string, given func(name string) bool) error {
	var err error
	if spec.SourceIPs, err = scenarios.ParseSourceIPs(st.SourceIPs); err != nil {
		return fmt.Errorf("--resume %s: %w", path, err)
	}
	if st.Frontends != "" && !given("frontends") {
		if spec.Frontends, err = scenarios.ParseFrontendPolicy(st.Frontends); err != nil {
			return fmt.Errorf("--resume %s: %w", path, err)
		}
	}
	if spec.Token, err = scenarios.ParseToken(st.Token); err != nil {
		return fmt.Errorf("--resume %s: %w", path, err)
	}
	if spec.Identify, err = scenarios.ParseIdentify(st.Identify); err != nil {
		return fmt.Errorf("--resume %s: %w", path, err)
	}
	return nil
}

// apply continues the saved sessions in the runner and the summary.
func (st *State) apply(runner *probe.Runner, summary *report.Summary) error {
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
