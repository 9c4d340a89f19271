package scenarios

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// PhaseKind says what a phase of a scenario does.
type PhaseKind string

const (
	// PhaseRequests sends requests: every session a count of them, or
	// rounds until a duration has passed.
	PhaseRequests PhaseKind = "requests"
	// PhaseExec runs a shell command, such as a restart or a deploy.
	PhaseExec PhaseKind = "exec"
	// PhaseWait sleeps.
	PhaseWait PhaseKind = "wait"
	// PhasePause waits until the user presses Enter, for a restart done by
	// hand in another terminal.
	PhasePause PhaseKind = "pause"
)

// Limits of a phase.
const (
	DefaultExecTimeout = time.Minute
	MaxPhases          = 100
	MaxPaths           = 1000
	maxPhaseWait       = 24 * time.Hour
	maxNameLen         = 64
)

// Phase is one step of a scenario. Sessions keep their cookie jars and
// their pins from one phase to the next, so a session pinned before an exec
// phase is judged by where it lands after it.
type Phase struct {
	Name string
	Kind PhaseKind

	// Requests phases. Requests and Duration are exclusive; both zero
	// means the spec's Requests. A nil Think means the spec's Think; nil
	// Paths means each frontend URL as given.
	Requests int
	Duration time.Duration
	Think    *time.Duration
	Paths    []string

	// Exec phases: Command runs with `sh -c`, bounded by Timeout (0 means
	// DefaultExecTimeout). A failure fails the run unless AllowFailure.
	Command      string
	Timeout      time.Duration
	AllowFailure bool

	// Wait phases.
	Wait time.Duration

	// Pause phases: Prompt is shown before waiting for Enter.
	Prompt string
}

// Action reports whether the phase acts on the target from outside the
// probe (exec, pause): a switch right after one is attributed to it.
func (p Phase) Action() bool { return p.Kind == PhaseExec || p.Kind == PhasePause }

// Plan returns the phases a run goes through, with every inherited value
// filled in. A spec without phases has one unnamed requests phase: the
// plain `stickyprobe run`.
func (s Spec) Plan() []Phase {
	if len(s.Phases) == 0 {
		return []Phase{{Kind: PhaseRequests, Requests: s.Requests, Think: &s.Think}}
	}
	out := make([]Phase, len(s.Phases))
	for i, p := range s.Phases {
		switch p.Kind {
		case PhaseRequests:
			if p.Requests == 0 && p.Duration == 0 {
				p.Requests = s.Requests
			}
			if p.Think == nil {
				think := s.Think
				p.Think = &think
			}
		case PhaseExec:
			if p.Timeout == 0 {
				p.Timeout = DefaultExecTimeout
			}
		}
		out[i] = p
	}
	return out
}

// validatePhases checks the phases on their own and against the spec's
// limits; every error names the phase.
func (s Spec) validatePhases() error {
	if s.Phases == nil {
		return nil
	}
	bad := func(i int, format string, a ...any) error {
		return fmt.Errorf("%w: phases[%d] (%s): %s", ErrInvalid, i, s.Phases[i].Name, fmt.Sprintf(format, a...))
	}
	switch {
	case len(s.Phases) == 0:
		return fmt.Errorf("%w: phases: empty; give at least one phase, or leave phases out for one requests phase", ErrInvalid)
	case len(s.Phases) > MaxPhases:
		return fmt.Errorf("%w: phases: %d phases, at most %d", ErrInvalid, len(s.Phases), MaxPhases)
	}
	seen := make(map[string]bool, len(s.Phases))
	requests := false
	var timed time.Duration
	for i, p := range s.Phases {
		if err := checkName(p.Name); err != nil {
			return bad(i, "name: %v", err)
		}
		if seen[p.Name] {
			return bad(i, "name %q is used by an earlier phase", p.Name)
		}
		seen[p.Name] = true
		switch p.Kind {
		case PhaseRequests:
			requests = true
			switch {
			case p.Requests < 0 || p.Requests > MaxRequests:
				return bad(i, "requests %d: want 1..%d", p.Requests, MaxRequests)
			case p.Duration < 0:
				return bad(i, "duration %s: must not be negative", p.Duration)
			case p.Requests > 0 && p.Duration > 0:
				return bad(i, "requests and duration both set; a phase has one or the other")
			case p.Think != nil && *p.Think < 0:
				return bad(i, "think %s: must not be negative", *p.Think)
			case len(p.Paths) > MaxPaths:
				return bad(i, "paths: %d paths, at most %d", len(p.Paths), MaxPaths)
			}
			for _, path := range p.Paths {
				if err := CheckPath(path); err != nil {
					return bad(i, "paths: %v", err)
				}
			}
			timed += p.Duration
		case PhaseExec:
			switch {
			case strings.TrimSpace(p.Command) == "":
				return bad(i, "exec: empty command")
			case strings.ContainsRune(p.Command, 0):
				return bad(i, "exec: the command contains a NUL byte")
			case p.Timeout < 0 || p.Timeout > maxPhaseWait:
				return bad(i, "timeout %s: want a positive duration up to %s", p.Timeout, maxPhaseWait)
			}
		case PhaseWait:
			if p.Wait <= 0 || p.Wait > maxPhaseWait {
				return bad(i, "wait %s: want a positive duration up to %s", p.Wait, maxPhaseWait)
			}
		case PhasePause:
		default:
			return bad(i, "unknown kind %q", p.Kind)
		}
	}
	if !requests {
		return fmt.Errorf("%w: phases: no requests phase, so nothing would be probed", ErrInvalid)
	}
	if timed > s.MaxDuration {
		return fmt.Errorf("%w: phases: the requests phases last %s, longer than the cap on requests of %s (max_duration, --max-duration)", ErrInvalid, timed, s.MaxDuration)
	}
	return nil
}

// checkName accepts short printable names: they end up in reports, JUnit
// test names and events.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty")
	case len(name) > maxNameLen:
		return fmt.Errorf("%q is longer than %d bytes", name, maxNameLen)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%q has leading or trailing space", name)
	case strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) || strings.ContainsRune(name, '\uFFFD'):
		return fmt.Errorf("%q has a control or invalid character", name)
	}
	return nil
}

// CheckPath accepts an absolute request path with an optional query, the
// part of a URL a phase requests on each frontend.
func CheckPath(path string) error {
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return fmt.Errorf("%q: want an absolute path such as /cart", path)
	}
	if strings.ContainsFunc(path, func(r rune) bool { return r <= ' ' || r == 0x7f }) || strings.Contains(path, "#") {
		return fmt.Errorf("%q: spaces, control characters and fragments are not allowed", path)
	}
	if _, err := url.ParseRequestURI(path); err != nil {
		return fmt.Errorf("%q: %v", path, err)
	}
	return nil
}

// WithPath returns base with its path and query replaced by path, which
// CheckPath accepted.
func WithPath(base *url.URL, path string) *url.URL {
	u := *base
	ref, err := url.ParseRequestURI(path)
	if err != nil {
		return &u
	}
	u.Path, u.RawPath, u.RawQuery, u.Fragment = ref.Path, ref.RawPath, ref.RawQuery, ""
	return &u
}
