package hacheck

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/stickyprobe/stickyprobe/hacfg"
	"github.com/stickyprobe/stickyprobe/report"
)

// stickTable is a parsed `stick-table` line.
type stickTable struct {
	line    hacfg.Line
	typ     string
	strLen  int // `len`, for string and binary; 32 when not given
	size    int64
	sizeOK  bool
	expire  hacfg.Line
	expireD string
	peers   string
}

func parseStickTable(l hacfg.Line) stickTable {
	t := stickTable{line: l, strLen: 32}
	a := l.Args
	for i := 1; i+1 < len(a); i++ {
		v := a[i+1]
		switch a[i] {
		case "type":
			t.typ = v
		case "len":
			if n, err := strconv.Atoi(v); err == nil {
				t.strLen = n
			}
		case "size":
			t.size, t.sizeOK = parseSize(v)
		case "expire":
			t.expireD = v
		case "peers":
			t.peers = v
		default:
			continue
		}
		i++
	}
	return t
}

// table finds the stick table the backend's stick rules use: its own,
// or the one a `table NAME` argument names.
func (b *backendView) table() (stickTable, bool) {
	for _, l := range b.sticks {
		if i := slices.Index(l.Args, "table"); i > 0 && i+1 < len(l.Args) {
			if other := b.cfg.Find("backend", l.Args[i+1]); other != nil {
				if tl, ok := other.Lookup("stick-table"); ok {
					return parseStickTable(tl), true
				}
			}
		}
	}
	if tl, ok := b.sec.Lookup("stick-table"); ok {
		return parseStickTable(tl), true
	}
	return stickTable{}, false
}

func checkStickTables(b *backendView, opts Options) []Finding {
	if len(b.sticks) == 0 {
		return nil
	}
	t, ok := b.table()
	if !ok {
		return nil // haproxy -c says what is missing
	}
	var out []Finding
	add := func(id string, sev Severity, cause report.Cause, problem, fix string) {
		f := b.finding(id, sev, t.line)
		f.Cause, f.Problem, f.Fix = cause, problem, fix
		out = append(out, f)
	}
	if t.peers == "" && b.nodes > 1 {
		add("stick-no-peers-nodes", SevError, report.CauseFrontendChanged,
			fmt.Sprintf("the stick table of %s has no `peers` while %d LB nodes are given: each node learns its own entries, so a user moving between nodes changes server", b.sec.Name, b.nodes),
			"declare a `peers` section listing every node and add `peers <section>` to the stick-table line")
	}
	if t.peers == "" {
		add("stick-no-peers", SevWarning, report.CauseAfterAction,
			fmt.Sprintf("the stick table of %s has no `peers`: a reload empties it, and every user is balanced again", b.sec.Name),
			"add a `peers` section naming the local peer (`peer <hostname> 127.0.0.1:10000`) and `peers <section>` on the stick-table line; a restart still loses it")
	}
	if (t.typ == "string" || t.typ == "binary") && t.strLen < opts.tokenLen() {
		add("stick-key-truncated", SevWarning, report.CauseTokenIgnored,
			fmt.Sprintf("the stick table of %s keeps %d bytes of each key (`len`), fewer than the %d of the token: users whose tokens share a prefix share an entry and overwrite each other's server (measured on HAProxy 2.6 with len 8: 2 of 6 users kept theirs)", b.sec.Name, t.strLen, opts.tokenLen()),
			"raise `len` to the token's length (64 covers most session ids)")
	}
	out = append(out, b.tableLimits(t, opts)...)
	out = append(out, b.checkServerIDs(t)...)
	return out
}

// tableLimits: a table too small evicts users, an expire shorter than a
// user's pause forgets them.
func (b *backendView) tableLimits(t stickTable, opts Options) []Finding {
	var out []Finding
	if t.sizeOK && t.size < int64(opts.sessions()) {
		f := b.finding("stick-table-small", SevWarning, t.line)
		f.Cause = report.CauseTokenIgnored
		f.Problem = fmt.Sprintf("the stick table of %s holds %d entries, fewer than the %d users expected at once: measured on HAProxy 2.6, a full table drops the oldest entries and those users are balanced again", b.sec.Name, t.size, opts.sessions())
		f.Fix = "raise `size` above the number of concurrent users (1m entries cost some 50-100 MB)"
		out = append(out, f)
	}
	if d, ok := parseTime(t.expireD); ok && opts.Think > 0 && d < opts.Think {
		f := b.finding("stick-expire-short", SevWarning, t.line)
		f.Cause = report.CauseTokenIgnored
		f.Problem = fmt.Sprintf("the stick table of %s expires entries after %s, less than the %v between two requests of a user: measured on HAProxy 2.6, the user is then balanced again", b.sec.Name, t.expireD, opts.Think)
		f.Fix = "raise `expire` above the longest pause of a real user"
		out = append(out, f)
	}
	return out
}

// checkServerIDs: a table shared between nodes stores server ids; ids
// HAProxy numbers by itself follow the order of the server lines, which
// need not match from node to node.
func (b *backendView) checkServerIDs(t stickTable) []Finding {
	if t.peers == "" {
		return nil
	}
	shared := b.nodes > 1
	if p := b.cfg.Find("peers", t.peers); p != nil && len(p.All("peer")) > 1 {
		shared = true
	}
	var missing []string
	first := hacfg.Line{}
	for _, s := range b.servers {
		if s.id == "" {
			if first.Num == 0 {
				first = s.line
			}
			missing = append(missing, s.name)
		}
	}
	if !shared || len(missing) == 0 {
		return nil
	}
	f := b.finding("server-id-not-forced", SevWarning, first)
	f.Servers = missing
	f.Cause = report.CauseFrontendChanged
	f.Problem = fmt.Sprintf("the stick table of %s is shared through peers %s but servers %s have no `id`: the table stores server ids, and ids HAProxy numbers by itself differ between nodes whose server lines differ", b.sec.Name, t.peers, serverRange(missing))
	f.Fix = "give every server a fixed `id <n>`, the same on every node"
	return []Finding{f}
}

// hashAlgos balance by a hash of the request: they pin a user by
// themselves, as long as the set of servers stays the same.
var hashAlgos = map[string]bool{"source": true, "hdr": true, "uri": true, "url_param": true, "rdp-cookie": true, "hash": true}

func checkHashing(b *backendView, _ Options) []Finding {
	if !hashAlgos[b.balanceAlgo()] || b.cookie != nil || len(b.sticks) > 0 || len(b.servers) < 2 {
		return nil
	}
	if l, ok := b.sec.Lookup("hash-type"); ok && len(l.Args) > 1 && l.Args[1] == "consistent" {
		return nil
	}
	f := b.finding("hash-map-based", SevInfo, b.where())
	f.Cause = report.CauseUnexplained
	f.Problem = fmt.Sprintf("%s balances by `%s` with map-based hashing: measured on HAProxy 2.6, when one of 3 servers went down 18 of 60 users of the servers that stayed up moved too (none with consistent hashing)", f.Section, b.balance.Args[1])
	f.Fix = "add `hash-type consistent`"
	return []Finding{f}
}

func checkRedispatch(b *backendView, _ Options) []Finding {
	on, l, ok := b.sec.Option("redispatch")
	if !ok || !on || len(b.servers) < 2 || b.cookie == nil && len(b.sticks) == 0 {
		return nil
	}
	f := b.finding("redispatch", SevInfo, l)
	f.Cause = report.CauseTokenReassigned
	f.Problem = fmt.Sprintf("%s has `option redispatch` (%s): when a user's server goes away HAProxy moves the user and keeps them on the new server", f.Section, l.Pos())
	f.Fix = "none needed; probe it with `--on-backend-loss failover-stay`, which `run --haproxy-config` picks from this line"
	return []Finding{f}
}
