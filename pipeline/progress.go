package pipeline

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
)

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
	now     func() time.Time
}

func newProgress(w io.Writer, on bool, total int, started time.Time, now func() time.Time) *progress {
	return &progress{w: w, on: on, total: total, started: started, last: started, now: now}
}

func (p *progress) add(ev *probe.Event) {
	if !p.on {
		return
	}
	p.done++
	if ev.Failed() {
		p.errors++
	}
	now := p.now()
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

func (p *progress) Add(ev *probe.Event) { p.add(ev) }

// Close clears the bar so the report starts on a clean line.
func (p *progress) Close(*Result) error {
	p.finish()
	return nil
}

// finish clears the bar so the report starts on a clean line.
func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 100))
	}
}
