package haruntime

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Watcher defaults: one poll a second is what the issue asks for and is
// below HAProxy's own reaction time (about 1.4 s to DOWN with `check
// inter 500ms`); the caps keep a long monitor run's memory flat.
const (
	DefaultInterval   = time.Second
	DefaultMaxChanges = 4096
	maxWarnings       = 32
	maxServers        = 4096
)

// Change is one server state change a poll saw.
type Change struct {
	At      time.Time `json:"at"` // when the poll saw it
	Backend string    `json:"backend"`
	Server  string    `json:"server"`
	From    string    `json:"from"` // ServerState.State words: up, down, maint, ...
	To      string    `json:"to"`
	// SinceChangeS is HAProxy's srv_time_since_last_change at that poll.
	// It is a difference of whole-second clocks, so it dates the change no
	// better than ±1 s (measured: 1 for a change 0.4 s old); At,
	// the poll, is never early and at most one interval late.
	SinceChangeS int64 `json:"since_change_s"`
}

// Restart is a poll that found a new process behind the socket.
type Restart struct {
	At     time.Time `json:"at"`
	OldPid int       `json:"old_pid"`
	NewPid int       `json:"new_pid"`
}

// Snapshot is what the socket said at one moment.
type Snapshot struct {
	At      time.Time     `json:"at"`
	Info    Info          `json:"info"`
	Servers []ServerState `json:"servers"`
	Stat    []StatRow     `json:"stat"`
}

// Watcher polls a Runtime API during a run: `show info` (restarts) and
// `show servers state` at every poll, `show stat` in the snapshots
// before and after. Start it with Watch; Stop returns the Result.
type Watcher struct {
	Client     *Client
	Interval   time.Duration // 0: DefaultInterval
	MaxChanges int           // 0: DefaultMaxChanges; later changes are counted in Dropped
	// OnWarning, when set, is told of each failed poll (once per run of
	// failures) and of the recovery; it must not block.
	OnWarning func(error)
	// OnChange and OnRestart, when set, are told of each change and
	// restart as a poll sees it (a monitor logs them); they must not
	// block.
	OnChange  func(Change)
	OnRestart func(Restart)

	mu     sync.Mutex
	res    Result
	last   map[serverKey]ServerState
	pid    int
	failed bool
	stop   context.CancelFunc
	done   chan struct{}
}

type serverKey struct{ backend, server string }

// Watch takes the Before snapshot (an error here means the socket is not
// usable: nothing is started) and then polls in the background until
// Stop or ctx ends.
func (w *Watcher) Watch(ctx context.Context) error {
	before, err := w.snapshot(ctx)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.res = Result{Socket: w.Client.Addr.String(), Before: before}
	w.last = map[serverKey]ServerState{}
	for _, s := range before.Servers {
		w.rememberLocked(s)
	}
	w.pid = before.Info.Pid
	w.mu.Unlock()
	ctx, w.stop = context.WithCancel(ctx)
	w.done = make(chan struct{})
	go w.loop(ctx)
	return nil
}

// Stop ends the polling, takes the After snapshot (a failure becomes a
// warning in the result) and returns what was seen. Call it once, after
// a successful Watch.
func (w *Watcher) Stop(ctx context.Context) *Result {
	w.stop()
	<-w.done
	after, err := w.snapshot(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.warnLocked(err)
	} else {
		w.res.After = &after
		w.observeLocked(after.At, after.Info, after.Servers)
	}
	res := w.res
	return &res
}

func (w *Watcher) loop(ctx context.Context) {
	defer close(w.done)
	interval := w.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.poll(ctx)
		}
	}
}

func (w *Watcher) poll(ctx context.Context) {
	info, err := w.Client.Info(ctx)
	var servers []ServerState
	if err == nil {
		servers, err = w.Client.ServersState(ctx, "")
	}
	if ctx.Err() != nil {
		return // stopping: not the socket's fault
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.res.Polls++
	if err != nil {
		w.res.FailedPolls++
		if !w.failed && w.OnWarning != nil {
			w.OnWarning(err)
		}
		w.failed = true
		w.warnLocked(err)
		return
	}
	w.failed = false
	w.observeLocked(time.Now(), info, servers)
}

func (w *Watcher) snapshot(ctx context.Context) (Snapshot, error) {
	info, err := w.Client.Info(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	servers, err := w.Client.ServersState(ctx, "")
	if err != nil {
		return Snapshot{}, err
	}
	stat, err := w.Client.Stat(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{At: time.Now(), Info: info, Servers: servers, Stat: stat}, nil
}

func (w *Watcher) observeLocked(at time.Time, info Info, servers []ServerState) {
	if info.Pid != w.pid {
		r := Restart{At: at, OldPid: w.pid, NewPid: info.Pid}
		if len(w.res.Restarts) < w.maxChanges() {
			w.res.Restarts = append(w.res.Restarts, r)
		}
		if w.OnRestart != nil {
			w.OnRestart(r)
		}
	}
	w.pid = info.Pid
	for _, s := range servers {
		k := serverKey{s.Backend, s.Server}
		prev, seen := w.last[k]
		if seen && prev.State() != s.State() {
			w.changedLocked(Change{At: at, Backend: s.Backend, Server: s.Server,
				From: prev.State(), To: s.State(), SinceChangeS: s.SinceChangeS})
		}
		w.rememberLocked(s)
	}
}

func (w *Watcher) changedLocked(c Change) {
	if len(w.res.Changes) < w.maxChanges() {
		w.res.Changes = append(w.res.Changes, c)
	} else {
		w.res.Dropped++
	}
	if w.OnChange != nil {
		w.OnChange(c)
	}
}

func (w *Watcher) rememberLocked(s ServerState) {
	k := serverKey{s.Backend, s.Server}
	if _, seen := w.last[k]; seen || len(w.last) < maxServers {
		w.last[k] = s
	}
}

func (w *Watcher) warnLocked(err error) {
	if len(w.res.Warnings) < maxWarnings {
		w.res.Warnings = append(w.res.Warnings, err.Error())
	}
}

func (w *Watcher) maxChanges() int {
	if w.MaxChanges > 0 {
		return w.MaxChanges
	}
	return DefaultMaxChanges
}

// Outages is Result.Outages of what the watch has seen so far; unlike
// the Result it may be asked while the watch goes on.
func (w *Watcher) Outages() []Outage {
	w.mu.Lock()
	r := Result{Changes: append([]Change(nil), w.res.Changes...)}
	w.mu.Unlock()
	return r.Outages()
}

// CookieMap is Result.CookieMap, from the snapshot Watch took; safe
// during the watch.
func (w *Watcher) CookieMap() map[string]map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return CookieMap(w.res.Before.Stat)
}

// Result is what a Watcher saw.
type Result struct {
	Socket      string    `json:"socket"`
	Before      Snapshot  `json:"before"`
	After       *Snapshot `json:"after,omitempty"` // nil when the last snapshot failed
	Changes     []Change  `json:"changes,omitempty"`
	Restarts    []Restart `json:"restarts,omitempty"`
	Polls       int       `json:"polls"`
	FailedPolls int       `json:"failed_polls,omitempty"`
	Dropped     int       `json:"dropped_changes,omitempty"` // changes past MaxChanges
	Warnings    []string  `json:"warnings,omitempty"`
}

// DownAt is the first time the watch saw backend/server leave "up" (down,
// maint, drain, stopping), and false if it never did.
func (r *Result) DownAt(backend, server string) (time.Time, bool) {
	for _, c := range r.Changes {
		if c.Backend == backend && c.Server == server && c.From == "up" {
			return c.At, true
		}
	}
	return time.Time{}, false
}

// Outage is a stretch during which a server was not up: from the poll
// that saw it leave "up" to the one that saw it back (Up is zero when it
// was still not up at the end).
type Outage struct {
	Backend string    `json:"backend"`
	Server  string    `json:"server"`
	State   string    `json:"state"` // the first state after up
	Down    time.Time `json:"down"`
	Up      time.Time `json:"up,omitempty"`
}

// Outages lists every server's outages in order of their start.
func (r *Result) Outages() []Outage {
	open := map[serverKey]int{}
	var out []Outage
	for _, c := range r.Changes {
		k := serverKey{c.Backend, c.Server}
		i, isOpen := open[k]
		switch {
		case c.From == "up" && !isOpen:
			open[k] = len(out)
			out = append(out, Outage{Backend: c.Backend, Server: c.Server, State: c.To, Down: c.At})
		case c.To == "up" && isOpen:
			out[i].Up = c.At
			delete(open, k)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Down.Before(out[j].Down) })
	return out
}

// CookieMap maps cookie values to server names, per backend, from the
// Before snapshot's `show stat`.
func (r *Result) CookieMap() map[string]map[string]string { return CookieMap(r.Before.Stat) }

// Redispatch is one server's redispatch and retry counts during the watch
// (After minus Before; a restart in between resets HAProxy's counters, so
// the counts are then those of the new process).
type Redispatch struct {
	Backend string `json:"backend"`
	Server  string `json:"server"`
	Wredis  int64  `json:"wredis"`
	Wretr   int64  `json:"wretr"`
}

// Redispatches lists the servers and backends whose counters moved.
func (r *Result) Redispatches() []Redispatch {
	if r.After == nil {
		return nil
	}
	before := map[serverKey]StatRow{}
	for _, s := range r.Before.Stat {
		before[serverKey{s.Proxy, s.Name}] = s
	}
	restarted := r.After.Info.Pid != r.Before.Info.Pid
	var out []Redispatch
	for _, a := range r.After.Stat {
		if a.Type != StatServer && a.Type != StatBackend {
			continue
		}
		d := Redispatch{Backend: a.Proxy, Server: a.Name, Wredis: a.Wredis, Wretr: a.Wretr}
		if b, ok := before[serverKey{a.Proxy, a.Name}]; ok && !restarted {
			d.Wredis -= b.Wredis
			d.Wretr -= b.Wretr
		}
		if d.Wredis > 0 || d.Wretr > 0 {
			out = append(out, d)
		}
	}
	return out
}
