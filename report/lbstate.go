package report

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"
)

// LBState is what the load balancer itself said about the run, read from
// its management interface (HAProxy's Runtime API) before, during and
// after it: the report's "what HAProxy said". Server names are the LB's;
// with the lab and most setups they are the backend names responses carry.
type LBState struct {
	Source       string         `json:"source"` // e.g. "haproxy runtime api"
	Socket       string         `json:"socket"`
	Version      string         `json:"version,omitempty"`
	Polls        int            `json:"polls"`
	FailedPolls  int            `json:"failed_polls,omitempty"`
	Changes      []LBChange     `json:"changes,omitempty"`
	Outages      []LBOutage     `json:"outages,omitempty"`
	Restarts     []LBRestart    `json:"restarts,omitempty"`
	Redispatches []LBRedispatch `json:"redispatches,omitempty"`
	// Cookies maps each LB backend's server cookie values to server
	// names: which server a token names.
	Cookies map[string]map[string]string `json:"cookies,omitempty"`
	// TableEntries are what the stick tables stored for the keys of
	// broken sessions (their tokens), looked up after the run.
	TableEntries   []LBTableEntry `json:"table_entries,omitempty"`
	DroppedChanges int            `json:"dropped_changes,omitempty"`
	Warnings       []string       `json:"warnings,omitempty"`
}

// LBChange is a server state change the LB reported.
type LBChange struct {
	At      time.Time `json:"at"` // when the poll saw it
	Backend string    `json:"backend"`
	Server  string    `json:"server"`
	From    string    `json:"from"`
	To      string    `json:"to"`
}

// LBOutage is a stretch in which the LB had a server out of service; Up
// is nil when it was still out at the end.
type LBOutage struct {
	Backend string     `json:"backend"`
	Server  string     `json:"server"`
	State   string     `json:"state"` // down, maint, drain, stopping
	Down    time.Time  `json:"down"`
	Up      *time.Time `json:"up,omitempty"`
}

// LBRestart is a new LB process behind the socket (a restart or reload).
type LBRestart struct {
	At     time.Time `json:"at"`
	OldPid int       `json:"old_pid"`
	NewPid int       `json:"new_pid"`
}

// LBRedispatch is how many requests the LB sent to another server than
// the one persistence chose (wredis), and retried (wretr), during the run.
type LBRedispatch struct {
	Backend string `json:"backend"`
	Server  string `json:"server"`
	Wredis  int64  `json:"wredis"`
	Wretr   int64  `json:"wretr"`
}

// LBTableEntry is a stick table's entry for a broken session's key.
type LBTableEntry struct {
	Session int    `json:"session"`
	Table   string `json:"table"`
	Key     string `json:"key"`
	Server  string `json:"server,omitempty"`
	ExpMS   int64  `json:"exp_ms"`
}

// DownAt is when the LB first took server (in any of its backends) out
// of service during the run, and when it put it back (zero: not during
// the run); ok is false when it never did. It is the LB's own word on a
// backend loss, the strongest evidence there is. server is a name as the
// probe identified backends: the LB's server name, or a cookie value
// that names one (--id cookie:SERVERID), in any LB backend.
func (s *LBState) DownAt(server string) (down, up time.Time, ok bool) {
	if s == nil {
		return time.Time{}, time.Time{}, false
	}
	names := map[string]bool{server: true}
	for _, m := range s.Cookies {
		if name, ok := m[server]; ok {
			names[name] = true
		}
	}
	for _, o := range s.Outages {
		if names[o.Server] {
			if o.Up != nil {
				up = *o.Up
			}
			return o.Down, up, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// maxLBLines bounds the changes and table entries the text reports list;
// the JSON report has them all.
const maxLBLines = 12

// lbStateLines are the "what HAProxy said" lines, times relative to the
// run's start; nil without an LBState.
func lbStateLines(r *Report) []string {
	s := r.LBState
	if s == nil {
		return nil
	}
	at := func(t time.Time) string { return offsetText(r.Run.Started, t) }
	head := fmt.Sprintf("what %s said (%s", lbName(s), clean(s.Socket))
	if s.Version != "" {
		head += ", " + clean(s.Version)
	}
	head += fmt.Sprintf(", %d polls", s.Polls)
	if s.FailedPolls > 0 {
		head += fmt.Sprintf(", %d failed", s.FailedPolls)
	}
	lines := []string{head + ")"}
	lines = append(lines, lbCookieLines(s)...)
	lines = append(lines, lbChangeLines(s, at)...)
	for _, rs := range s.Restarts {
		lines = append(lines, fmt.Sprintf("  at %s a new process: pid %d → %d (restart or reload; counters and tables start over unless peers carry them)", at(rs.At), rs.OldPid, rs.NewPid))
	}
	for _, d := range s.Redispatches {
		who := clean(d.Backend) + "/" + clean(d.Server)
		if d.Server == "BACKEND" { // HAProxy's row for the whole backend
			who = "backend " + clean(d.Backend) + " in all"
		}
		lines = append(lines, fmt.Sprintf("  %s: %d redispatched to another server, %d retried", who, d.Wredis, d.Wretr))
	}
	for i, e := range s.TableEntries {
		if i == maxLBLines {
			lines = append(lines, fmt.Sprintf("  … %d more table entries in the JSON report", len(s.TableEntries)-i))
			break
		}
		lines = append(lines, fmt.Sprintf("  stick table %s: broken session %d's key %s → %s (expires in %s)",
			clean(e.Table), e.Session, clean(shorten(e.Key, maxCell)), clean(orDash(e.Server)), time.Duration(e.ExpMS)*time.Millisecond))
	}
	for _, w := range s.Warnings {
		lines = append(lines, "  warning: "+clean(w))
	}
	if len(s.Changes)+len(s.Restarts)+len(s.Redispatches) == 0 {
		lines = append(lines, "  no server changed state, nothing was redispatched")
	}
	return lines
}

// maxCookiesShown bounds the cookie values listed per LB backend.
const maxCookiesShown = 8

// lbCookieLines say which server each cookie value names, per LB
// backend: what a token or a cookie identity means.
func lbCookieLines(s *LBState) []string {
	var lines []string
	for _, be := range sortedKeys(s.Cookies) {
		m := s.Cookies[be]
		var parts []string
		for i, v := range sortedKeys(m) {
			if i == maxCookiesShown {
				parts = append(parts, fmt.Sprintf("%d more", len(m)-i))
				break
			}
			parts = append(parts, clean(shorten(v, maxCell))+" = "+clean(shorten(m[v], maxCell)))
		}
		lines = append(lines, fmt.Sprintf("  cookie values of %s: %s", clean(be), strings.Join(parts, ", ")))
	}
	return lines
}

func lbChangeLines(s *LBState, at func(time.Time) string) []string {
	var lines []string
	for i, c := range s.Changes {
		if i == maxLBLines {
			lines = append(lines, fmt.Sprintf("  … %d more state changes in the JSON report", len(s.Changes)-i))
			break
		}
		lines = append(lines, fmt.Sprintf("  at %s %s/%s %s → %s", at(c.At), clean(c.Backend), clean(c.Server), c.From, c.To))
	}
	if s.DroppedChanges > 0 {
		lines = append(lines, fmt.Sprintf("  %d later state changes not kept (memory bound)", s.DroppedChanges))
	}
	return lines
}

func lbName(s *LBState) string {
	if strings.HasPrefix(s.Source, "haproxy") {
		return "HAProxy"
	}
	return "the load balancer"
}

// writeLBState writes the "what HAProxy said" lines of the table report.
func writeLBState(b *bytes.Buffer, r *Report) {
	lines := lbStateLines(r)
	if lines == nil {
		return
	}
	b.WriteByte('\n')
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "  "); ok {
			writeWrapped(b, rest, "  ", "    ")
		} else {
			writeWrapped(b, strings.ToUpper(l[:1])+l[1:], "", "  ")
		}
	}
}

// mdLBState is writeLBState in Markdown.
func mdLBState(b *bytes.Buffer, r *Report) {
	lines := lbStateLines(r)
	if lines == nil {
		return
	}
	fmt.Fprintf(b, "\n### What %s said\n\n%s.\n\n", lbName(r.LBState), md(upperFirst(lines[0])))
	for _, l := range lines[1:] {
		fmt.Fprintf(b, "- %s\n", md(strings.TrimSpace(l)))
	}
}

// SortLBState puts an LBState's lists in a stable order: by time, then
// names.
func SortLBState(s *LBState) {
	sort.SliceStable(s.Changes, func(i, j int) bool { return s.Changes[i].At.Before(s.Changes[j].At) })
	sort.SliceStable(s.Outages, func(i, j int) bool { return s.Outages[i].Down.Before(s.Outages[j].Down) })
	sort.SliceStable(s.Redispatches, func(i, j int) bool {
		a, b := s.Redispatches[i], s.Redispatches[j]
		return a.Backend+"/"+a.Server < b.Backend+"/"+b.Server
	})
	sort.SliceStable(s.TableEntries, func(i, j int) bool { return s.TableEntries[i].Session < s.TableEntries[j].Session })
}
