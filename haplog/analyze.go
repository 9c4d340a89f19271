package haplog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/stickyprobe/stickyprobe/report"
)

// Analysis reads HAProxy log files into counts, a timeline and a verdict:
// what `stickyprobe logs` does between its flags and its output.
type Analysis struct {
	Files  []string      // in order; "-" is standard input (Open)
	Follow bool          // keep reading the last file as it grows, until ctx ends
	Bucket time.Duration // the timeline's step (0: none); with Follow, the live line's too (0: a minute)
	Reader *Reader
	Th     Thresholds
	Join   *Join     // switches of a probe run to join with the lines; nil: none
	Live   io.Writer // with Follow: one line per Bucket of wall clock
	Warn   io.Writer // files skipped or read in part
}

// ErrNoFiles is an analysis none of whose files could be opened.
var ErrNoFiles = errors.New("none of the log files could be opened")

// Run reads the files and judges them. A file that cannot be opened is
// skipped and one cut short counts up to where it was read, each with a
// warning; none opened is ErrNoFiles.
func (a Analysis) Run(ctx context.Context) (Summary, error) {
	stats := NewStats(a.Bucket)
	if a.read(ctx, stats) == 0 {
		return Summary{}, ErrNoFiles
	}
	return Summary{Files: len(a.Files), Reader: a.Reader, Stats: stats, Judged: Judge(stats, a.Th), Th: a.Th}, nil
}

// read reads the files in order into stats and the join; with Follow the
// last one is followed until ctx ends. It returns how many it opened.
func (a Analysis) read(ctx context.Context, stats *Stats) (opened int) {
	var mu sync.Mutex // stats is shared with the live lines
	add := func(r *Record) {
		mu.Lock()
		stats.Add(r)
		mu.Unlock()
		a.Join.Add(r)
	}
	for i, name := range a.Files {
		var r io.ReadCloser
		var err error
		if a.Follow && i == len(a.Files)-1 && name != "-" {
			r, err = Follow(ctx, name, false)
			if err == nil {
				stop := a.liveBuckets(ctx, &mu, stats)
				defer stop()
			}
		} else {
			r, err = Open(name)
		}
		if err != nil {
			fmt.Fprintf(a.Warn, "stickyprobe: warning: %v (skipped)\n", err)
			continue
		}
		opened++
		err = a.Reader.Read(name, r, add)
		r.Close()
		if err != nil {
			// A truncated rotated file: what was read counts.
			fmt.Fprintf(a.Warn, "stickyprobe: warning: %v (read up to there)\n", err)
		}
	}
	return opened
}

// liveBuckets prints, while following, one line per Bucket of wall
// clock: the requests of that interval and how they went. It shares stats
// with the reader through mu.
func (a Analysis) liveBuckets(ctx context.Context, mu *sync.Mutex, stats *Stats) func() {
	every := a.Bucket
	if every <= 0 {
		every = time.Minute
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		var last Counts
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case now := <-tick.C:
				mu.Lock()
				cur := stats.Total
				mu.Unlock()
				fmt.Fprintln(a.Live, LiveLine(now, &last, &cur))
				last = cur
			}
		}
	}()
	return func() { close(stop); <-done }
}

// LiveLine is the delta between two totals: "15:04:05  120 requests ...".
func LiveLine(now time.Time, prev, cur *Counts) string {
	d := func(s byte) int64 { return cur.ByClient(s) - prev.ByClient(s) }
	kept := d('V')
	back := kept + d('I') + d('D') + d('E') + d('O')
	sticky := "-"
	if back > 0 {
		sticky = fmt.Sprintf("%.1f%%", 100*float64(kept)/float64(back))
	}
	return fmt.Sprintf("%s  %d requests  sticky %s  V %d  I %d  D %d  E %d  O %d  N %d  5xx %d",
		now.Format("15:04:05"), cur.Requests-prev.Requests, sticky, kept, d('I'), d('D'), d('E'), d('O'), d('N'), cur.Errors-prev.Errors)
}

// OpenJoin reads an events file's report and switches, to join with the
// log; "" joins nothing (a nil *Join, whose methods do nothing).
func OpenJoin(path string) (*Join, error) {
	if path == "" {
		return nil, nil
	}
	rp, err := report.OpenReplay(path)
	if err != nil {
		return nil, err
	}
	rep, _, err := rp.Report()
	if err != nil {
		return nil, err
	}
	return NewJoin(rep, rp.Each)
}
