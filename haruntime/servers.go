package haruntime

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Server operational states (srv_op_state of `show servers state`).
const (
	OpStopped  = 0 // DOWN: checks failed, or tracking a down server
	OpStarting = 1 // coming up (slowstart)
	OpRunning  = 2 // UP
	OpStopping = 3 // going down (e.g. a soft stop)
)

// Admin state bits (srv_admin_state): maintenance and drain, set by an
// operator, inherited from a tracked server, or from DNS resolution.
const (
	AdminForcedMaint   = 0x01
	AdminInheritMaint  = 0x02
	AdminConfigMaint   = 0x04 // `disabled` on the server line
	AdminForcedDrain   = 0x08
	AdminInheritDrain  = 0x10
	AdminResolverMaint = 0x20
	AdminHostnameMaint = 0x40
	adminMaint         = AdminForcedMaint | AdminInheritMaint | AdminConfigMaint | AdminResolverMaint | AdminHostnameMaint
	adminDrain         = AdminForcedDrain | AdminInheritDrain
)

// ServerState is one row of `show servers state`.
type ServerState struct {
	BackendID int    `json:"backend_id"`
	Backend   string `json:"backend"`
	ServerID  int    `json:"server_id"`
	Server    string `json:"server"`
	Addr      string `json:"addr"`
	Port      int    `json:"port,omitempty"`
	OpState   int    `json:"op_state"`
	Admin     int    `json:"admin_state"`
	Weight    int    `json:"weight"`
	// SinceChangeS is HAProxy's own count of seconds since the server's
	// last state change, so a change seen by a poll can be dated more
	// precisely than the poll.
	SinceChangeS int64 `json:"since_change_s"`
	// CheckHealth is the health check's counter (srv_check_health), 0 to
	// rise+fall-1: a settled server sits at the top and goes DOWN after
	// fall failed checks, but one just started or just back UP sits at
	// rise and goes DOWN at the first failure (measured on 2.6).
	CheckHealth int `json:"check_health"`
}

// State is the server's state in one word: maint and drain (admin) win
// over down, starting, up and stopping (operational).
func (s ServerState) State() string {
	switch {
	case s.Admin&adminMaint != 0:
		return "maint"
	case s.Admin&adminDrain != 0:
		return "drain"
	}
	switch s.OpState {
	case OpStopped:
		return "down"
	case OpStarting:
		return "starting"
	case OpRunning:
		return "up"
	case OpStopping:
		return "stopping"
	}
	return "unknown"
}

// ParseServersState reads a `show servers state` reply: a format version
// line ("1"), a "# be_id be_name ..." header naming the columns, then one
// space-separated row per server. Columns are found by name, so a later
// version adding some does not break it; a row shorter than the header,
// or a number that is not one, is ErrGarbage.
func ParseServersState(reply string) ([]ServerState, error) {
	lines := strings.Split(reply, "\n")
	if len(lines) < 2 || strings.TrimSpace(lines[0]) != "1" {
		return nil, fmt.Errorf("%w: show servers state: want format version 1 on the first line", ErrGarbage)
	}
	header, ok := strings.CutPrefix(lines[1], "# ")
	if !ok {
		return nil, fmt.Errorf("%w: show servers state: no '# be_id ...' header", ErrGarbage)
	}
	cols := columnIndex(strings.Fields(header))
	for _, need := range []string{"be_id", "be_name", "srv_id", "srv_name", "srv_addr", "srv_op_state", "srv_admin_state"} {
		if _, ok := cols[need]; !ok {
			return nil, fmt.Errorf("%w: show servers state: no %s column", ErrGarbage, need)
		}
	}
	var out []ServerState
	for i, line := range lines[2:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		s, err := serverStateRow(strings.Fields(line), cols)
		if err != nil {
			return nil, fmt.Errorf("%w: show servers state: row %d: %v", ErrGarbage, i+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func serverStateRow(f []string, cols map[string]int) (ServerState, error) {
	r := row{fields: f, cols: cols}
	s := ServerState{
		Backend: r.str("be_name"), Server: r.str("srv_name"), Addr: r.str("srv_addr"),
		BackendID: r.num("be_id"), ServerID: r.num("srv_id"), OpState: r.num("srv_op_state"),
		Admin: r.num("srv_admin_state"), Weight: r.num("srv_uweight"), Port: r.num("srv_port"),
		SinceChangeS: int64(r.num("srv_time_since_last_change")), CheckHealth: r.num("srv_check_health"),
	}
	return s, r.err
}

// row reads the fields of one table row by column name, keeping the
// first error; an absent optional column reads as "" or 0.
type row struct {
	fields []string
	cols   map[string]int
	err    error
}

func (r *row) str(name string) string {
	i, ok := r.cols[name]
	if !ok {
		return ""
	}
	if i >= len(r.fields) {
		if r.err == nil {
			r.err = fmt.Errorf("%d fields, no %s", len(r.fields), name)
		}
		return ""
	}
	return r.fields[i]
}

func (r *row) num(name string) int {
	v := r.str(name)
	if v == "" || v == "-" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("%s %q is not a number", name, v)
	}
	return n
}

func columnIndex(names []string) map[string]int {
	m := make(map[string]int, len(names))
	for i, n := range names {
		if _, dup := m[n]; !dup {
			m[n] = i
		}
	}
	return m
}

// ServersState asks `show servers state`, of one backend when backend is
// not empty (an unknown one is ErrNotFound).
func (c *Client) ServersState(ctx context.Context, backend string) ([]ServerState, error) {
	cmd := "show servers state"
	if backend != "" {
		cmd += " " + backend
	}
	reply, err := c.Query(ctx, cmd)
	if err != nil {
		return nil, err
	}
	s, err := ParseServersState(reply)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Addr, err)
	}
	return s, nil
}
