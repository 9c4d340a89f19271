package scenarios

import (
	"errors"
	"math"
	"net/url"
	"testing"
	"time"
)

// validSpec is Default with one target, the smallest spec that validates.
func validSpec(t *testing.T) Spec {
	t.Helper()
	s := Default()
	u, err := ParseURL("http://lb.test:8080/")
	if err != nil {
		t.Fatal(err)
	}
	s.URLs = []*url.URL{u}
	return s
}

func TestDefaultValidates(t *testing.T) {
	s := validSpec(t)
	if err := s.Validate(); err != nil {
		t.Fatalf("Default() with a URL: Validate() = %v, want nil", err)
	}
	if s.Conn != ConnFresh || s.Identify.Kind != IdentifyAuto || s.Token.Kind != TokenAuto {
		t.Errorf("Default() = conn %q, id %q, token %q; want fresh, auto, auto", s.Conn, s.Identify, s.Token)
	}
	if err := Default().Validate(); err == nil {
		t.Error("Default() without a URL validates, want an error")
	}
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Spec)
		wantErr string // "" = valid; else a fragment the error must contain
	}{
		{name: "valid", edit: func(*Spec) {}},
		{name: "no URL", edit: func(s *Spec) { s.URLs = nil }, wantErr: "no target URL"},
		{name: "sessions zero", edit: func(s *Spec) { s.Sessions = 0 }, wantErr: "--sessions 0"},
		{name: "sessions too many", edit: func(s *Spec) { s.Sessions = MaxSessions + 1 }, wantErr: "--sessions 1000001"},
		{name: "sessions at limit", edit: func(s *Spec) { s.Sessions = MaxSessions }},
		{name: "requests zero", edit: func(s *Spec) { s.Requests = 0 }, wantErr: "--requests 0"},
		{name: "requests too many", edit: func(s *Spec) { s.Requests = MaxRequests + 1 }, wantErr: "--requests 100001"},
		{name: "concurrency zero", edit: func(s *Spec) { s.Concurrency = 0 }, wantErr: "--concurrency 0"},
		{name: "concurrency too high", edit: func(s *Spec) { s.Concurrency = MaxConcurrency + 1 }, wantErr: "--concurrency 10001"},
		{name: "control below -1", edit: func(s *Spec) { s.ControlSessions = -2 }, wantErr: "--control -2"},
		{name: "control too many", edit: func(s *Spec) { s.ControlSessions = MaxSessions + 1 }, wantErr: "--control 1000001"},
		{name: "control none", edit: func(s *Spec) { s.ControlSessions = 0 }},
		{name: "rate negative", edit: func(s *Spec) { s.Rate = -1 }, wantErr: "--rate -1"},
		{name: "rate NaN", edit: func(s *Spec) { s.Rate = math.NaN() }, wantErr: "--rate NaN"},
		{name: "rate unlimited", edit: func(s *Spec) { s.Rate = 0 }},
		{name: "think negative", edit: func(s *Spec) { s.Think = -time.Second }, wantErr: "--think -1s"},
		{name: "timeout zero", edit: func(s *Spec) { s.Timeout = 0 }, wantErr: "--timeout 0s"},
		{name: "max duration zero", edit: func(s *Spec) { s.MaxDuration = 0 }, wantErr: "--max-duration 0s"},
		{name: "min stickiness above 1", edit: func(s *Spec) { s.MinStickiness = 1.5 }, wantErr: "--min-stickiness 1.5"},
		{name: "min stickiness negative", edit: func(s *Spec) { s.MinStickiness = -0.1 }, wantErr: "--min-stickiness -0.1"},
		{name: "min stickiness NaN", edit: func(s *Spec) { s.MinStickiness = math.NaN() }, wantErr: "--min-stickiness NaN"},
		{name: "max error rate above 1", edit: func(s *Spec) { s.MaxErrorRate = 2 }, wantErr: "--max-error-rate 2"},
		{name: "max error rate NaN", edit: func(s *Spec) { s.MaxErrorRate = math.NaN() }, wantErr: "--max-error-rate NaN"},
		{name: "URL scheme", edit: func(s *Spec) { s.URLs = []*url.URL{{Scheme: "ftp", Host: "lb.test"}} }, wantErr: `target "ftp://lb.test": scheme`},
		{name: "URL second bad", edit: func(s *Spec) { s.URLs = append(s.URLs, &url.URL{Scheme: "http", Path: "/x"}) }, wantErr: `target "http:///x": no host`},
		{name: "conn empty", edit: func(s *Spec) { s.Conn = "" }, wantErr: "--conn"},
		{name: "conn unknown", edit: func(s *Spec) { s.Conn = "pooled" }, wantErr: `--conn: connection policy "pooled"`},
		{name: "conn session", edit: func(s *Spec) { s.Conn = ConnSession }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec(t)
			tt.edit(&s)
			err := s.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			wantErr(t, err, tt.wantErr)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Validate() = %v, want it to wrap ErrInvalid", err)
			}
		})
	}
}

func TestSpecControl(t *testing.T) {
	tests := []struct {
		name     string
		sessions int
		control  int
		want     int
	}{
		{name: "auto minimum of 3", sessions: 1, control: -1, want: 3},
		{name: "auto 10% below minimum", sessions: 20, control: -1, want: 3},
		{name: "auto rounds 2.5 up to 3", sessions: 25, control: -1, want: 3},
		{name: "auto 10% of 34 rounds down", sessions: 34, control: -1, want: 3},
		{name: "auto 10% of 35 rounds up", sessions: 35, control: -1, want: 4},
		{name: "auto 10% of 50", sessions: 50, control: -1, want: 5},
		{name: "auto 10% of 1000", sessions: 1000, control: -1, want: 100},
		{name: "explicit", sessions: 50, control: 7, want: 7},
		{name: "explicit above sessions", sessions: 2, control: 9, want: 9},
		{name: "none", sessions: 50, control: 0, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Spec{Sessions: tt.sessions, ControlSessions: tt.control}
			if got := s.Control(); got != tt.want {
				t.Errorf("Spec{Sessions: %d, ControlSessions: %d}.Control() = %d, want %d", tt.sessions, tt.control, got, tt.want)
			}
		})
	}
}
