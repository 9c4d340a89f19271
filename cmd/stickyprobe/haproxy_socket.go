package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/haruntime"
	"github.com/stickyprobe/stickyprobe/lab"
	"github.com/stickyprobe/stickyprobe/report"
	"github.com/urfave/cli/v2"
)

// --haproxy-socket: what HAProxy itself says about the run, from its
// Runtime API, read-only. Checked before the first request (a socket that
// is missing, refuses or answers garbage is a usage error, exit 2),
// polled about once a second during the run (a failed poll is a warning,
// the run goes on), read once more after it; the report gains "what
// HAProxy said".

// lbLookupLimit bounds the stick table lookups after a run: tables ×
// broken sessions' keys.
const lbLookupLimit = 64

func haproxySocketFlag() cli.Flag {
	return &cli.StringFlag{Name: "haproxy-socket", Category: catLB,
		Usage: "read HAProxy's Runtime API at `ADDR` (a UNIX socket path, or tcp:HOST:PORT) before, during and after the run: " +
			"server state changes, redispatches, cookie values, stick table entries of broken sessions. Read-only; " +
			"`stats socket PATH level operator` shows stick table contents, level user hides them"}
}

// lbWatch is one run's watch of a Runtime API; a nil *lbWatch (no flag)
// does nothing.
type lbWatch struct {
	client *haruntime.Client
	w      *haruntime.Watcher
	res    *haruntime.Result
	state  *report.LBState
}

// startLBWatch checks the socket at addr ("" = no watch) and starts
// polling it; a failed poll is a warning on stderr.
func startLBWatch(ctx context.Context, addr string, stderr io.Writer) (*lbWatch, error) {
	return newLBWatch(ctx, addr, func(w *haruntime.Watcher) {
		w.OnWarning = func(err error) {
			fmt.Fprintf(stderr, "stickyprobe: warning: --haproxy-socket: %v (the run goes on)\n", err)
		}
	})
}

// newLBWatch parses addr, lets configure set the watcher's callbacks, and
// takes the first snapshot: an error there is exit 2, before the run.
func newLBWatch(ctx context.Context, addr string, configure func(*haruntime.Watcher)) (*lbWatch, error) {
	if addr == "" {
		return nil, nil
	}
	a, err := haruntime.ParseAddr(addr)
	if err != nil {
		return nil, withCode(exitUsage, "--haproxy-socket: %v", err)
	}
	lw := &lbWatch{client: haruntime.NewClient(a)}
	lw.w = &haruntime.Watcher{Client: lw.client}
	configure(lw.w)
	if err := lw.w.Watch(ctx); err != nil {
		return nil, withCode(exitUsage, "--haproxy-socket %s: %v", addr, socketHint(err))
	}
	return lw, nil
}

// socketHint adds what to check to a failed first contact.
func socketHint(err error) error {
	switch {
	case errors.Is(err, haruntime.ErrUnreachable):
		return fmt.Errorf("%w (is there a `stats socket` line in haproxy.cfg's global section, and is HAProxy running?)", err)
	case errors.Is(err, haruntime.ErrGarbage):
		return fmt.Errorf("%w (is this HAProxy's stats socket?)", err)
	}
	return err
}

// feed gives summary HAProxy's word on its servers, the strongest
// evidence of a backend loss, live: the summary asks while the run goes
// on (a loss ends when the backend answers again), so it reads what the
// watch has seen so far.
func (lw *lbWatch) feed(summary *report.Summary) {
	if lw != nil {
		summary.SetServerStates(liveServerStates{w: lw.w, cookies: lw.w.CookieMap()})
	}
}

// liveServerStates is report.ServerStates over a running watch. The
// probe names a backend by what responses carry: the server's name
// (X-Backend and the like), or its cookie value when identity comes from
// the cookie (--id cookie:SERVERID); both are found, in any backend.
type liveServerStates struct {
	w       *haruntime.Watcher
	cookies map[string]map[string]string
}

func (l liveServerStates) DownAt(backend string) (down, up time.Time, ok bool) {
	st := report.LBState{Cookies: l.cookies} // the report's matching, as a replay of the run does it
	for _, o := range l.w.Outages() {
		st.Outages = append(st.Outages, lbOutage(o))
	}
	return st.DownAt(backend)
}

// stop ends the polling and reads the socket once more. It is safe to
// call more than once (the first call counts) and on nil.
func (lw *lbWatch) stop(ctx context.Context) *report.LBState {
	if lw == nil {
		return nil
	}
	if lw.res == nil {
		lw.res = lw.w.Stop(context.WithoutCancel(ctx)) // an interrupted run still gets its after snapshot
		lw.state = lbState(lw.res)
	}
	return lw.state
}

// attach looks up broken sessions' keys in the stick tables and puts what
// HAProxy said into the report.
func (lw *lbWatch) attach(ctx context.Context, rep *report.Report) {
	if lw == nil || rep == nil {
		return
	}
	st := lw.stop(ctx)
	st.TableEntries, st.Warnings = lw.tableEntries(context.WithoutCancel(ctx), rep.Samples, st.Warnings)
	report.SortLBState(st)
	rep.LBState = st
}

// lbState is a watcher's result in the report's words.
func lbState(res *haruntime.Result) *report.LBState {
	st := &report.LBState{
		Source: "haproxy runtime api", Socket: res.Socket, Version: res.Before.Info.Version,
		Polls: res.Polls, FailedPolls: res.FailedPolls, DroppedChanges: res.Dropped,
		Cookies: res.CookieMap(), Warnings: res.Warnings,
	}
	for _, c := range res.Changes {
		st.Changes = append(st.Changes, report.LBChange{At: c.At.UTC(), Backend: c.Backend, Server: c.Server, From: c.From, To: c.To})
	}
	for _, o := range res.Outages() {
		st.Outages = append(st.Outages, lbOutage(o))
	}
	for _, r := range res.Restarts {
		st.Restarts = append(st.Restarts, report.LBRestart{At: r.At.UTC(), OldPid: r.OldPid, NewPid: r.NewPid})
	}
	for _, d := range res.Redispatches() {
		st.Redispatches = append(st.Redispatches, report.LBRedispatch{Backend: d.Backend, Server: d.Server, Wredis: d.Wredis, Wretr: d.Wretr})
	}
	return st
}

// lbOutage is an outage in the report's words.
func lbOutage(o haruntime.Outage) report.LBOutage {
	out := report.LBOutage{Backend: o.Backend, Server: o.Server, State: o.State, Down: o.Down.UTC()}
	if !o.Up.IsZero() {
		up := o.Up.UTC()
		out.Up = &up
	}
	return out
}

// tableEntries looks up the tokens of the sampled broken sessions in
// every stick table, within lbLookupLimit queries. A socket whose level
// hides the contents says so once.
func (lw *lbWatch) tableEntries(ctx context.Context, samples []*report.Sample, warnings []string) ([]report.LBTableEntry, []string) {
	if len(samples) == 0 {
		return nil, warnings
	}
	tables, err := lw.client.Tables(ctx)
	if err != nil {
		return nil, append(warnings, fmt.Sprintf("stick tables not read: %v", err))
	}
	var out []report.LBTableEntry
	queries := 0
	for _, t := range tables {
		for _, s := range samples {
			for _, key := range sampleKeys(s) {
				if queries++; queries > lbLookupLimit {
					return out, warnings
				}
				e, ok, err := lw.client.Lookup(ctx, t.Name, key)
				if errors.Is(err, haruntime.ErrPermission) {
					return out, append(warnings, fmt.Sprintf("stick table %s: contents hidden (the socket needs `level operator`)", t.Name))
				}
				if ok {
					out = append(out, report.LBTableEntry{Session: s.Session, Table: t.Name, Key: key, Server: e.Server, ExpMS: e.ExpMS})
				}
			}
		}
	}
	return out, warnings
}

// sampleKeys are the distinct tokens a broken session sent or was given:
// what a table keyed on the persistence cookie stores.
func sampleKeys(s *report.Sample) []string {
	seen := map[string]bool{}
	var keys []string
	for _, st := range s.Steps {
		for _, k := range []string{st.TokenSent, st.TokenSet} {
			if k != "" && !seen[k] && haruntime.CheckCommand("show table t key "+k) == nil {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// monitorLBWatch is --haproxy-socket for monitor: checked at start,
// polled for the monitor's life, each change and restart logged as it is
// seen. stop ends it.
func monitorLBWatch(ctx context.Context, addr string, log *slog.Logger) (stop func(), err error) {
	lw, err := newLBWatch(ctx, addr, func(w *haruntime.Watcher) {
		w.OnWarning = func(err error) { log.Warn("haproxy runtime api poll failed", "err", err) }
		w.OnChange = func(ch haruntime.Change) {
			log.Warn("haproxy server state changed", "backend", ch.Backend, "server", ch.Server, "from", ch.From, "to", ch.To,
				"at", ch.At.UTC().Format(time.RFC3339Nano))
		}
		w.OnRestart = func(r haruntime.Restart) { log.Warn("haproxy restarted", "old_pid", r.OldPid, "new_pid", r.NewPid) }
	})
	if err != nil || lw == nil {
		return func() {}, err
	}
	return func() {
		res := lw.w.Stop(context.WithoutCancel(ctx))
		log.Info("haproxy runtime api watch ended", "socket", res.Socket, "polls", res.Polls, "failed_polls", res.FailedPolls,
			"changes", len(res.Changes)+res.Dropped, "restarts", len(res.Restarts))
	}, nil
}

// withStatsSocket gives a served lab HAProxy a Runtime API socket, so
// --haproxy-socket can be tried on it; other kinds are left as they are.
func withStatsSocket(cfg lab.LBConfig) lab.LBConfig {
	if hc, ok := cfg.(lab.HAProxyConfig); ok {
		hc.StatsSocket = true
		return hc
	}
	return cfg
}

// printStatsSocket tells `stickyprobe lab --serve` users how to ask it.
func printStatsSocket(w io.Writer, n lab.Node, target string) {
	h, ok := n.(*lab.HAProxy)
	if !ok || h.StatsSocket() == "" {
		return
	}
	fmt.Fprintf(w, "Its Runtime API (stats socket, level operator) says what HAProxy saw during a run:\n"+
		"   stickyprobe run --haproxy-socket %s %s\n", socketArg(h.StatsSocket()), target)
}

// socketArg is the --haproxy-socket value for a `stats socket` address:
// HAProxy writes TCP as ipv4@HOST:PORT, the flag as tcp:HOST:PORT.
func socketArg(bind string) string {
	if rest, ok := strings.CutPrefix(bind, "ipv4@"); ok {
		return "tcp:" + rest
	}
	return bind
}

// lbObserver is a watch as the pipeline's Observer.
type lbObserver struct {
	w   *lbWatch
	ctx context.Context
}

func (o lbObserver) Attach(s *report.Summary)  { o.w.feed(s) }
func (o lbObserver) Stop()                     { o.w.stop(o.ctx) }
func (o lbObserver) Annotate(r *report.Report) { o.w.attach(o.ctx, r) }
