package haruntime

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// maxTableData bounds the data fields kept per entry: a table can store
// many counters, and a reply is only as trusted as the socket.
const maxTableData = 32

// Table is one stick table of a `show table` reply, with its entries when
// the reply dumped them.
type Table struct {
	Name    string       `json:"name"`
	Type    string       `json:"type"` // ip, ipv6, integer, string, binary
	Size    int64        `json:"size"`
	Used    int64        `json:"used"`
	Entries []TableEntry `json:"entries,omitempty"`
}

// TableEntry is one stored key. ServerID and Server are the server the
// key sticks to (server_id, and server_key or server_name depending on
// the version); other stored data is kept as text.
type TableEntry struct {
	Key      string            `json:"key"`
	Use      int64             `json:"use"`
	ExpMS    int64             `json:"exp_ms"`
	ServerID int               `json:"server_id,omitempty"`
	Server   string            `json:"server,omitempty"`
	Data     map[string]string `json:"data,omitempty"`
}

// ParseTables reads a `show table` reply: "# table: NAME, type: T,
// size:N, used:N" lines, each followed (for `show table NAME`) by
// "0xADDR: key=K use=N exp=N data=value..." entry lines. HAProxy escapes
// a space, '=' or backslash in a key with a backslash; the key comes back
// unescaped. A socket at `level user` gets the table lines but "#
// contents not dumped due to insufficient privileges" instead of the
// entries: that is ErrPermission. Anything else is ErrGarbage.
func ParseTables(reply string) ([]Table, error) {
	var out []Table
	for i, line := range strings.Split(reply, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
		case strings.HasPrefix(line, "# table: "):
			t, err := parseTableHeader(line)
			if err != nil {
				return nil, fmt.Errorf("%w: show table: line %d: %v", ErrGarbage, i+1, err)
			}
			out = append(out, t)
		case strings.HasPrefix(line, "# contents not dumped"):
			return nil, fmt.Errorf("%w: show table: %s (the socket needs level operator)", ErrPermission, strings.TrimPrefix(line, "# "))
		case strings.HasPrefix(line, "0x") && len(out) > 0:
			e, err := parseTableEntry(line)
			if err != nil {
				return nil, fmt.Errorf("%w: show table: line %d: %v", ErrGarbage, i+1, err)
			}
			last := &out[len(out)-1]
			last.Entries = append(last.Entries, e)
		default:
			return nil, fmt.Errorf("%w: show table: line %d: %.60q", ErrGarbage, i+1, line)
		}
	}
	return out, nil
}

func parseTableHeader(line string) (Table, error) {
	var t Table
	rest := strings.TrimPrefix(line, "# table: ")
	name, rest, ok := strings.Cut(rest, ", ")
	if !ok || name == "" {
		return t, fmt.Errorf("no table name in %.60q", line)
	}
	t.Name = name
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return t, fmt.Errorf("%q is not key:value", part)
		}
		v = strings.TrimSpace(v)
		var err error
		switch k {
		case "type":
			t.Type = v
		case "size":
			t.Size, err = strconv.ParseInt(v, 10, 64)
		case "used":
			t.Used, err = strconv.ParseInt(v, 10, 64)
		}
		if err != nil {
			return t, fmt.Errorf("%s %q is not a number", k, v)
		}
	}
	return t, nil
}

func parseTableEntry(line string) (TableEntry, error) {
	var e TableEntry
	_, rest, ok := strings.Cut(line, ": ")
	if !ok {
		return e, fmt.Errorf("no ': ' after the entry address")
	}
	fields := splitEscaped(rest)
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "key=") {
		return e, fmt.Errorf("entry without key=")
	}
	e.Key = unescape(strings.TrimPrefix(fields[0], "key="))
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return e, fmt.Errorf("%.40q is not name=value", f)
		}
		if err := e.set(k, unescape(v)); err != nil {
			return e, err
		}
	}
	return e, nil
}

func (e *TableEntry) set(k, v string) error {
	var err error
	switch k {
	case "use":
		e.Use, err = strconv.ParseInt(v, 10, 64)
	case "exp":
		e.ExpMS, err = strconv.ParseInt(v, 10, 64)
	case "server_id":
		e.ServerID, err = strconv.Atoi(v)
	case "server_key", "server_name":
		e.Server = v
	default:
		if e.Data == nil {
			e.Data = map[string]string{}
		}
		if len(e.Data) < maxTableData {
			e.Data[k] = v
		}
	}
	if err != nil {
		return fmt.Errorf("%s %q is not a number", k, v)
	}
	return nil
}

// splitEscaped splits at spaces not escaped by a backslash.
func splitEscaped(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ' ':
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// unescape undoes HAProxy's dump_text escapes: \x, \t, \n, \r, \e and
// \xHH.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'e':
			b.WriteByte(0x1b)
		case 'x':
			if n, err := strconv.ParseUint(s[i+1:min(i+3, len(s))], 16, 8); err == nil && i+3 <= len(s) {
				b.WriteByte(byte(n))
				i += 2
			} else {
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Tables asks `show table`: every table, without entries.
func (c *Client) Tables(ctx context.Context) ([]Table, error) {
	return c.tables(ctx, "show table")
}

// Table asks `show table NAME`: the table and all its entries. The reply
// size limit bounds a big table; ask Lookup for one key instead.
func (c *Client) Table(ctx context.Context, name string) (Table, error) {
	ts, err := c.tables(ctx, "show table "+name)
	if err != nil {
		return Table{}, err
	}
	if len(ts) != 1 {
		return Table{}, fmt.Errorf("%s: show table %s: %w: %d tables in the reply", c.Addr, name, ErrGarbage, len(ts))
	}
	return ts[0], nil
}

// Lookup asks `show table NAME key KEY`: the key's entry, and false when
// the table does not hold it.
func (c *Client) Lookup(ctx context.Context, table, key string) (TableEntry, bool, error) {
	if key == "" || strings.ContainsAny(key, " \t") {
		return TableEntry{}, false, fmt.Errorf("%w: a table key must be one word, got %q", ErrNotAllowed, key)
	}
	ts, err := c.tables(ctx, "show table "+table+" key "+key)
	if err != nil {
		return TableEntry{}, false, err
	}
	// HAProxy 2.6 answers a key it does not hold with an empty reply, no
	// table line.
	if len(ts) > 1 {
		return TableEntry{}, false, fmt.Errorf("%s: show table %s key: %w: %d tables in the reply", c.Addr, table, ErrGarbage, len(ts))
	}
	if len(ts) == 0 || len(ts[0].Entries) == 0 {
		return TableEntry{}, false, nil
	}
	return ts[0].Entries[0], true, nil
}

func (c *Client) tables(ctx context.Context, cmd string) ([]Table, error) {
	reply, err := c.Query(ctx, cmd)
	if err != nil {
		return nil, err
	}
	ts, err := ParseTables(reply)
	if err != nil {
		return nil, fmt.Errorf("%s: %q: %w", c.Addr, cmd, err)
	}
	return ts, nil
}
