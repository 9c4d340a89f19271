package scenarios

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// load parses a fixture and, like the command line with no URL given,
// requires a target.
func load(t *testing.T, path string) (*File, error) {
	t.Helper()
	f, err := Load(path)
	if err == nil {
		err = f.RequireTarget(f.Spec)
	}
	return f, err
}

// One fixture per mistake, each with the exact error a user sees: the file,
// the line, the key and what is wrong.
func TestInvalidFixtures(t *testing.T) {
	tests := map[string]string{
		"invalid-unknown-key.yaml":             `:3: max-duration: unknown key; did you mean max_duration?`,
		"invalid-unknown-phase-key.yaml":       `:6: phases[1].timout: unknown key; did you mean timeout?`,
		"invalid-bad-type.yaml":                `:2: sessions: want a whole number, got the string "many"`,
		"invalid-bad-type-phases.yaml":         `:3: phases: want a list of phases, got a mapping`,
		"invalid-bad-duration.yaml":            `:3: think: bad duration "1 minute": want a number and a unit, such as 500ms, 30s or 2m`,
		"invalid-unitless-duration.yaml":       `:6: phases[1].timeout: bad duration 60: give a unit, such as 60s`,
		"invalid-bad-regex.yaml":               ":3: identify.body: \"body:Hostname: ([a-z\": bad regular expression: error parsing regexp: missing closing ]: `[a-z`",
		"invalid-missing-target.yaml":          `:3: target: no URL: give target.urls in the file, or URLs on the command line`,
		"invalid-no-target.yaml":               `:1: target: no URL: give target.urls in the file, or URLs on the command line`,
		"invalid-empty-phases.yaml":            `:3: phases: empty list: give at least one phase, or leave phases out for one requests phase`,
		"invalid-two-kinds.yaml":               `:6: phases[1].wait: exec and wait in one phase: a phase does one thing, split it in two`,
		"invalid-no-requests-phase.yaml":       `:2: phases: no requests phase, so nothing would be probed`,
		"invalid-duration-over-max.yaml":       `:3: phases: the requests phases last 5m0s, longer than the cap on requests of 1m0s (max_duration, --max-duration)`,
		"invalid-yaml-syntax.yaml":             `:2: YAML syntax: did not find expected '-' indicator`,
		"invalid-duplicate-key.yaml":           `:3: sessions: given twice`,
		"invalid-alias.yaml":                   `:3: anchors and aliases (&, *) are not supported in scenario files`,
		"invalid-bad-url.yaml":                 `:3: target.urls[1]: "ftp://lb.example/": scheme must be http or https`,
		"invalid-duplicate-phase.yaml":         `:6: phases[2].name: "check" is the name of an earlier phase`,
		"invalid-bad-path.yaml":                `:4: phases[0].paths[1]: "cart": want an absolute path such as /cart`,
		"invalid-out-of-range.yaml":            `:3: expect.stickiness: 1.5 is out of range 0..1`,
		"invalid-bad-pause.yaml":               `:5: phases[1].pause: want true or a message to show, got false`,
		"invalid-empty-file.yaml":              `: empty: a scenario needs at least a target or a phase`,
		"invalid-bad-source-ips.yaml":          `:2: source.ips: "127.0.0.2-127.0.0.x": "127.0.0.x" is not an IP address`,
		"invalid-source-no-ips.yaml":           `:2: source.ips: missing: give the addresses sessions are bound to, e.g. ips: 127.0.0.2-127.0.0.41`,
		"invalid-bad-frontends.yaml":           `:3: target.frontends: frontend policy "roundrobin": want pin, rotate or random`,
		"invalid-bad-loss-policy.yaml":         `:4: expect.on_backend_loss: backend-loss policy "failover": want strict, failover-stay or failover-return`,
		"invalid-bad-imbalance.yaml":           `:2: expect.max_imbalance: 0.5: want 0 (no check) or a ratio of at least 1 (largest share ÷ fair share)`,
		"invalid-burst-out-of-range.yaml":      `:2: burst: 100 is out of range 0..64`,
		"invalid-burst-above-concurrency.yaml": `:2: burst: burst 30: a burst's requests are all in flight at once, so it needs concurrency 30 or more (it is 20)`,
		"invalid-burst-above-phase.yaml":       `:2: burst: burst 6: the first requests phase sends only 3 requests per session; the burst is part of them`,
		"invalid-source-shared.yaml":           `:3: source: source.ips with conn shared: one shared pool would send a session's requests from other sessions' addresses; use conn fresh or session`,
	}
	files, err := filepath.Glob("testdata/invalid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		if _, ok := tests[filepath.Base(path)]; !ok {
			t.Errorf("fixture %s has no expected error in this test", path)
		}
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			_, err := load(t, path)
			if err == nil {
				t.Fatal("no error")
			}
			if got := err.Error(); got != path+want {
				t.Errorf("error\n got: %s\nwant: %s", got, path+want)
			}
			var se *Error
			if !errors.As(err, &se) || !errors.Is(err, ErrInvalid) {
				t.Errorf("error %T is not a *scenarios.Error wrapping ErrInvalid", err)
			}
		})
	}
}

func TestValidFullFixture(t *testing.T) {
	f, err := load(t, "testdata/valid-full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := f.Spec
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if f.Name != "full" || s.Name != "full" || f.Description != "Every key set." {
		t.Errorf("name %q/%q description %q", f.Name, s.Name, f.Description)
	}
	var urls []string
	for _, u := range s.URLs {
		urls = append(urls, u.String())
	}
	if want := []string{"http://shop.example:8080/", "http://[::1]:8080/x"}; !slices.Equal(urls, want) {
		t.Errorf("urls %q, want %q", urls, want)
	}
	if len(s.Resolve) != 1 || s.Resolve[0].String() != "shop.example:8080:127.0.0.1" {
		t.Errorf("resolve %v", s.Resolve)
	}
	if len(s.Headers) != 2 || s.Headers[0] != (Header{"X-Probe", "stickyprobe"}) || s.Headers[1] != (Header{"X-Count", "3"}) {
		t.Errorf("headers %v", s.Headers)
	}
	if s.Identify.String() != `body:Hostname:\s*(\S+)` || s.Token.String() != "cookie:SERVERID" || s.Conn != ConnSession || !s.Insecure {
		t.Errorf("identify %s token %s conn %s insecure %v", s.Identify, s.Token, s.Conn, s.Insecure)
	}
	if s.Sessions != 7 || s.ControlSessions != 2 || s.Requests != 3 || s.Concurrency != 4 || s.Rate != 12.5 || s.Seed != -42 {
		t.Errorf("counts %+v", s)
	}
	if s.Think != 10*time.Millisecond || s.Timeout != 3*time.Second || s.MaxDuration != 90*time.Second {
		t.Errorf("durations think %s timeout %s max %s", s.Think, s.Timeout, s.MaxDuration)
	}
	if s.MinStickiness != 0.95 || s.MaxErrorRate != 0.01 {
		t.Errorf("expect %v %v", s.MinStickiness, s.MaxErrorRate)
	}
	if s.MinBackends != 3 || s.MaxImbalance != 1.5 || s.OnBackendLoss != LossFailoverReturn {
		t.Errorf("expect min_backends %d max_imbalance %v on_backend_loss %s", s.MinBackends, s.MaxImbalance, s.OnBackendLoss)
	}
	if s.Frontends != FrontendsRotate || s.SourceIPs.Len() != 4 || s.SourceIPs.String() != "127.0.0.2-127.0.0.4,::1" ||
		s.SourceMoveAfter != 2 || s.Burst != 3 || !s.HTTP2 {
		t.Errorf("topology frontends %s source %q (%d) move after %d burst %d http2 %v",
			s.Frontends, s.SourceIPs, s.SourceIPs.Len(), s.SourceMoveAfter, s.Burst, s.HTTP2)
	}
	plan := s.Plan()
	var kinds []string
	for _, p := range plan {
		kinds = append(kinds, p.Name+"="+string(p.Kind))
	}
	want := []string{"before=requests", "browse=requests", "restart=exec", "settle=wait", "manual=pause", "confirm=pause", "soak=requests"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("phases %q, want %q", kinds, want)
	}
	if plan[0].Requests != 3 || *plan[0].Think != 10*time.Millisecond {
		t.Errorf("before inherits requests 3 and think 10ms, got %d %s", plan[0].Requests, *plan[0].Think)
	}
	if plan[1].Requests != 4 || *plan[1].Think != 0 || !slices.Equal(plan[1].Paths, []string{"/", "/cart?x=1"}) {
		t.Errorf("browse %+v", plan[1])
	}
	if plan[2].Command != "echo restarting" || plan[2].Timeout != 5*time.Second || !plan[2].AllowFailure || !plan[2].Action() {
		t.Errorf("restart %+v", plan[2])
	}
	if plan[3].Wait != 250*time.Millisecond || plan[3].Action() {
		t.Errorf("settle %+v", plan[3])
	}
	if plan[4].Prompt != "press Enter" || plan[5].Prompt != "" || !plan[5].Action() {
		t.Errorf("pauses %+v %+v", plan[4], plan[5])
	}
	if plan[6].Duration != 2*time.Second || plan[6].Requests != 0 {
		t.Errorf("soak %+v", plan[6])
	}
}

// Shorthands a user is likely to write.
func TestParseShorthands(t *testing.T) {
	tests := []struct {
		name, yaml string
		check      func(t *testing.T, s Spec)
	}{
		{"target as one URL", "target: lb.example:8080", func(t *testing.T, s Spec) {
			if len(s.URLs) != 1 || s.URLs[0].String() != "http://lb.example:8080/" {
				t.Errorf("urls %v", s.URLs)
			}
		}},
		{"target as a list", "target: [http://a.example/, http://b.example/]", func(t *testing.T, s Spec) {
			if len(s.URLs) != 2 {
				t.Errorf("urls %v", s.URLs)
			}
		}},
		{"identify and token as flag syntax", "identify: header:X-Served-By\ntoken: cookie:route", func(t *testing.T, s Spec) {
			if s.Identify.String() != "header:X-Served-By" || s.Token.String() != "cookie:route" {
				t.Errorf("identify %s token %s", s.Identify, s.Token)
			}
		}},
		{"phase without kind inherits", "requests: 4\nthink: 5ms\nphases: [{name: a}]", func(t *testing.T, s Spec) {
			if p := s.Plan()[0]; p.Kind != PhaseRequests || p.Requests != 4 || *p.Think != 5*time.Millisecond {
				t.Errorf("plan %+v", p)
			}
		}},
		{"default phase names", "phases: [{requests: 1}, {wait: 1s}, {}]", func(t *testing.T, s Spec) {
			if s.Phases[0].Name != "phase1" || s.Phases[1].Name != "phase2" || s.Phases[2].Name != "phase3" {
				t.Errorf("names %+v", s.Phases)
			}
		}},
		{"exec timeout defaults to a minute", "phases: [{}, {exec: 'true'}]", func(t *testing.T, s Spec) {
			if p := s.Plan()[1]; p.Timeout != DefaultExecTimeout {
				t.Errorf("timeout %s", p.Timeout)
			}
		}},
		{"no phases is one unnamed requests phase", "requests: 2", func(t *testing.T, s Spec) {
			if p := s.Plan(); len(p) != 1 || p[0].Name != "" || p[0].Requests != 2 || p[0].Kind != PhaseRequests {
				t.Errorf("plan %+v", p)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("x.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, f.Spec)
		})
	}
}

// More mistakes, checked by fragment: the table above pins the exact text.
func TestParseRejects(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"two documents", "sessions: 1\n---\nsessions: 2\n", "x.yaml:2: more than one YAML document"},
		{"top level list", "- a\n", "x.yaml:1: want a mapping of keys, got a list"},
		{"custom tag", "sessions: !foo 3\n", "x.yaml:1: custom tag"},
		{"non string key", "1: 2\n", "x.yaml:1: keys must be plain names"},
		{"null value", "timeout:\n", "x.yaml:1: timeout: want a duration such as 30s, got nothing"},
		{"negative think", "think: -1s\n", "x.yaml:1: think: -1s is out of range"},
		{"zero timeout", "timeout: 0s\n", "x.yaml:1: timeout: 0s is out of range"},
		{"rate NaN", "rate: .nan\n", "x.yaml:1: rate: .nan is out of range"},
		{"float for int", "sessions: 2.5\n", "x.yaml:1: sessions: want a whole number, got the number 2.5"},
		{"huge int", "seed: 99999999999999999999\n", "x.yaml:1: seed: want a whole number"},
		{"bad conn", "conn: keepalive\n", `x.yaml:1: conn: connection policy "keepalive"`},
		{"bad token", "token: cookie:a;b\n", `x.yaml:1: token: "cookie:a;b": "a;b" is not a valid cookie name`},
		{"identify two keys", "identify: {header: A, cookie: B}\n", "x.yaml:1: identify: want one of header, cookie, body with its argument, got 2 keys"},
		{"identify unknown kind", "identify: {query: x}\n", "x.yaml:1: identify.query: unknown key"},
		{"bad resolve", "target: {urls: [http://a/], resolve: [a:80]}\n", `x.yaml:1: target.resolve[0]: "a:80": want HOST:PORT:ADDR`},
		{"bad header", "target: {urls: [http://a/], headers: {'X Y': z}}\n", "x.yaml:1: target.headers.X Y:"},
		{"empty urls", "target: {urls: []}\n", "x.yaml:1: target.urls: empty list"},
		{"timeout on requests phase", "phases: [{requests: 2, timeout: 1s}]\n", "x.yaml:1: phases[0].timeout: requests and timeout in one phase"},
		{"requests and duration", "phases: [{requests: 2, duration: 1s}]\n", "x.yaml:1: phases[0].duration: requests and duration both given"},
		{"empty exec", "phases: [{}, {exec: ''}]\n", "x.yaml:1: phases[1].exec: want a shell command"},
		{"zero wait", "phases: [{}, {wait: 0s}]\n", "x.yaml:1: phases[1].wait: 0s is out of range"},
		{"bad phase name", "phases: [{name: ' x'}]\n", "phases[0].name: \" x\" has leading or trailing space"},
		{"phase not a mapping", "phases: [before]\n", "x.yaml:1: phases[0]: want a mapping of keys"},
		{"paths empty", "phases: [{paths: []}]\n", "x.yaml:1: phases[0].paths: want 1..1000 paths, got 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadMissingAndHuge(t *testing.T) {
	if _, err := Load("testdata/no-such-file.yaml"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, []byte("description: "+strings.Repeat("x", MaxFileSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge file: %v", err)
	}
}

// Every built-in scenario parses, says what it is, and makes a valid spec
// once a URL is given; the library has the scenarios the README names.
func TestBuiltins(t *testing.T) {
	var names []string
	for _, b := range Builtins() {
		names = append(names, b.Name)
		if b.Description == "" || !strings.HasPrefix(string(b.Source), "# "+b.Name+":") {
			t.Errorf("%s: needs a description and a leading comment naming it", b.Name)
		}
		f, src, err := LookupBuiltin(b.Name)
		if err != nil {
			t.Fatalf("%s: %v", b.Name, err)
		}
		if string(src) != string(b.Source) || f.Name != b.Name {
			t.Errorf("%s: LookupBuiltin disagrees with Builtins (name %q)", b.Name, f.Name)
		}
		s := f.Spec
		u, _ := url.Parse("http://lb.example/")
		s.URLs = []*url.URL{u}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", b.Name, err)
		}
	}
	for _, want := range []string{"smoke", "restart-smoke", "reload-smoke", "manual-restart", "soak", "browse"} {
		if !slices.Contains(names, want) {
			t.Errorf("no built-in %q in %q", want, names)
		}
	}
	entries, _ := os.ReadDir("library")
	if len(entries) != len(names) {
		t.Errorf("%d files in library/, %d built-ins listed: one does not parse", len(entries), len(names))
	}
	for _, bad := range []string{"", "nope", "../file", "smoke.yaml"} {
		if _, _, err := LookupBuiltin(bad); err == nil || !strings.Contains(err.Error(), "built-ins: ") {
			t.Errorf("LookupBuiltin(%q) = %v, want an error listing the built-ins", bad, err)
		}
	}
}

// restart-smoke is the scenario the README leads with: its shape is a
// contract.
func TestRestartSmokeShape(t *testing.T) {
	f, _, err := LookupBuiltin("restart-smoke")
	if err != nil {
		t.Fatal(err)
	}
	plan := f.Spec.Plan()
	if len(plan) != 3 || plan[0].Kind != PhaseRequests || plan[1].Kind != PhaseExec || plan[1].Name != "restart" || plan[2].Kind != PhaseRequests {
		t.Fatalf("plan %+v", plan)
	}
	if plan[1].Command != "systemctl restart haproxy" || plan[0].Requests != 5 || f.Spec.Sessions != 200 {
		t.Errorf("restart-smoke: %q, %d requests, %d sessions", plan[1].Command, plan[0].Requests, f.Spec.Sessions)
	}
}
