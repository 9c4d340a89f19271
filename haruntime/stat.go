package haruntime

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Stat row types (the type column of `show stat`).
const (
	StatFrontend = 0
	StatBackend  = 1
	StatServer   = 2
	StatListener = 3
)

// StatRow is the part of one `show stat` row that bears on persistence.
type StatRow struct {
	Proxy  string `json:"proxy"`
	Name   string `json:"name"` // the server, or FRONTEND / BACKEND
	Type   int    `json:"type"`
	Status string `json:"status"` // UP, DOWN, "UP 1/2" (going down), MAINT, DRAIN, no check, ...
	// Cookie is a server's `cookie` value; on a BACKEND row, the cookie's
	// name.
	Cookie string `json:"cookie,omitempty"`
	// Wretr counts retries to the same server after a failed connect,
	// Wredis the requests HAProxy redispatched to another server
	// (option redispatch).
	Wretr       int64  `json:"wretr"`
	Wredis      int64  `json:"wredis"`
	Sessions    int64  `json:"stot"`
	CheckStatus string `json:"check_status,omitempty"`
	ChkDown     int64  `json:"chkdown"`    // UP to DOWN transitions
	LastChgS    int64  `json:"lastchg_s"`  // seconds since the last UP/DOWN change
	DowntimeS   int64  `json:"downtime_s"` // total seconds DOWN
	Addr        string `json:"addr,omitempty"`
}

// ParseStat reads a `show stat` reply: CSV with a "# pxname,svname,..."
// header. Columns are found by name; a row with a bad number, or a reply
// without the header, is ErrGarbage.
func ParseStat(reply string) ([]StatRow, error) {
	header, body, _ := strings.Cut(reply, "\n")
	h, ok := strings.CutPrefix(header, "# ")
	if !ok {
		return nil, fmt.Errorf("%w: show stat: no '# pxname,svname,...' header", ErrGarbage)
	}
	cols := columnIndex(strings.Split(h, ","))
	for _, need := range []string{"pxname", "svname", "status", "type"} {
		if _, ok := cols[need]; !ok {
			return nil, fmt.Errorf("%w: show stat: no %s column", ErrGarbage, need)
		}
	}
	rd := csv.NewReader(strings.NewReader(body))
	rd.FieldsPerRecord = -1
	rd.LazyQuotes = true
	rd.ReuseRecord = true
	var out []StatRow
	for n := 1; ; n++ {
		rec, err := rd.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: show stat: %v", ErrGarbage, err)
		}
		r, err := statRow(rec, cols)
		if err != nil {
			return nil, fmt.Errorf("%w: show stat: row %d: %v", ErrGarbage, n, err)
		}
		out = append(out, r)
	}
}

func statRow(rec []string, cols map[string]int) (StatRow, error) {
	r := row{fields: rec, cols: cols}
	s := StatRow{
		Proxy: r.str("pxname"), Name: r.str("svname"), Type: r.num("type"), Status: r.str("status"),
		Cookie: r.str("cookie"), CheckStatus: r.str("check_status"), Addr: r.str("addr"),
		Wretr: r.num64("wretr"), Wredis: r.num64("wredis"), Sessions: r.num64("stot"),
		ChkDown: r.num64("chkdown"), LastChgS: r.num64("lastchg"), DowntimeS: r.num64("downtime"),
	}
	return s, r.err
}

func (r *row) num64(name string) int64 {
	v := r.str(name)
	if v == "" || v == "-" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("%s %q is not a number", name, v)
	}
	return n
}

// CookieMap maps each backend's server cookie values to server names:
// map[backend][cookie value] = server. Servers without a cookie value are
// left out.
func CookieMap(rows []StatRow) map[string]map[string]string {
	m := map[string]map[string]string{}
	for _, r := range rows {
		if r.Type != StatServer || r.Cookie == "" {
			continue
		}
		if m[r.Proxy] == nil {
			m[r.Proxy] = map[string]string{}
		}
		m[r.Proxy][r.Cookie] = r.Name
	}
	return m
}

// Stat asks `show stat`.
func (c *Client) Stat(ctx context.Context) ([]StatRow, error) {
	reply, err := c.Query(ctx, "show stat")
	if err != nil {
		return nil, err
	}
	rows, err := ParseStat(reply)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Addr, err)
	}
	return rows, nil
}
