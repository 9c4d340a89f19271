package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
)

// isTerminal reports whether w is a character device, so progress and
// carriage returns never end up in a file or a pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress draws a one-line bar on stderr, at most every 200 ms and only
// once the run has lasted a moment.
type progress struct {
	w       io.Writer
	on      bool
	total   int
	started time.Time
	last    time.Time
	done    int
	errors  int
	drawn   bool
}

func newProgress(w io.Writer, on bool, total int, started time.Time) *progress {
	return &progress{w: w, on: on, total: total, started: started, last: started}
}

func (p *progress) add(ev *probe.Event) {
	if !p.on {
		return
	}
	p.done++
	if ev.Failed() {
		p.errors++
	}
	now := time.Now()
	if now.Sub(p.started) < 700*time.Millisecond || now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	p.draw(now)
}

func (p *progress) draw(now time.Time) {
	const width = 30
	frac := float64(p.done) / float64(max(p.total, 1))
	filled := min(int(frac*width), width)
	elapsed := now.Sub(p.started)
	rate := float64(p.done) / max(elapsed.Seconds(), 0.001)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d requests  %.0f req/s  %d errors  %s ",
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.done, p.total, rate, p.errors,
		elapsed.Round(time.Second))
	p.drawn = true
}

// finish clears the bar so the report starts on a clean line.
func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 100))
	}
}
