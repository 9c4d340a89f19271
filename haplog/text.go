package haplog

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stickyprobe/stickyprobe/report"
)

// Summary is what Text prints: the counts, what the reader met, and the
// verdict.
type Summary struct {
	Files  int
	Reader *Reader
	Stats  *Stats
	Judged Judgement
	Th     Thresholds
}

// Text writes the summary for a terminal.
func Text(w io.Writer, s Summary) error {
	ew := &errWriter{w: w}
	s.header(ew)
	if s.Stats.Total.Requests > 0 {
		s.clientTable(ew)
		s.serverTable(ew)
		s.meanings(ew)
		s.timeline(ew)
	}
	s.changes(ew)
	s.unreadable(ew)
	fmt.Fprintf(ew, "\nVerdict: %s\n", strings.ToUpper(string(s.Judged.Verdict)))
	for _, r := range s.Judged.Reasons {
		fmt.Fprintf(ew, "  %s\n", r)
	}
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	_, e.err = e.w.Write(p)
	return len(p), nil
}

func (s Summary) header(w io.Writer) {
	rd := s.Reader
	pct := 0.0
	if rd.Lines > 0 {
		pct = 100 * float64(rd.Unreadable) / float64(rd.Lines)
	}
	fmt.Fprintf(w, "HAProxy log: %d file(s), %d lines: %d requests, %d HAProxy messages, %d unreadable (%.1f%%)\n",
		s.Files, rd.Lines, rd.Requests, rd.Messages, rd.Unreadable, pct)
	if st := s.Stats; !st.First.IsZero() {
		fmt.Fprintf(w, "Requests from %s to %s (%s)\n", st.First.Format("2006-01-02 15:04:05"),
			st.Last.Format("2006-01-02 15:04:05"), st.Last.Sub(st.First).Round(time.Second))
	}
}

func (s Summary) clientTable(w io.Writer) {
	fmt.Fprintf(w, "\nClient cookie status (what the request's persistence cookie did), per server:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	nodes := s.hasNodes()
	fmt.Fprintf(tw, "%sFRONTEND\tBACKEND\tSERVER\tREQUESTS\t%s\tother\t5xx\tREDISPATCHED\t\n", nodeCol(nodes, "NODE"), strings.Join(strings.Split(ClientStatuses, ""), "\t"))
	row := func(k Key, c *Counts) {
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%d\t", nodeCol(nodes, k.Node), k.Frontend, k.Backend, k.Server, c.Requests)
		for i := 0; i <= len(ClientStatuses); i++ {
			var n int64
			for _, v := range c.Pair[i] {
				n += v
			}
			fmt.Fprintf(tw, "%d\t", n)
		}
		fmt.Fprintf(tw, "%d\t%d\t\n", c.Errors, c.Redispatched)
	}
	for _, sc := range s.Stats.Servers() {
		row(sc.Key, &sc.Counts)
	}
	row(Key{Frontend: "TOTAL"}, &s.Stats.Total)
	tw.Flush()
}

func (s Summary) serverTable(w io.Writer) {
	fmt.Fprintf(w, "\nServer cookie status (what HAProxy did with the cookie on the response), per server:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	nodes := s.hasNodes()
	fmt.Fprintf(tw, "%sFRONTEND\tBACKEND\tSERVER\t%s\tother\t\n", nodeCol(nodes, "NODE"), strings.Join(strings.Split(ServerStatuses, ""), "\t"))
	row := func(k Key, c *Counts) {
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t", nodeCol(nodes, k.Node), k.Frontend, k.Backend, k.Server)
		for j := 0; j < len(ServerStatuses); j++ {
			fmt.Fprintf(tw, "%d\t", c.ByServer(ServerStatuses[j]))
		}
		fmt.Fprintf(tw, "%d\t\n", c.ByServer(0))
	}
	for _, sc := range s.Stats.Servers() {
		row(sc.Key, &sc.Counts)
	}
	row(Key{Frontend: "TOTAL"}, &s.Stats.Total)
	tw.Flush()
}

// meanings explains every status the log holds, with the cause words.
func (s Summary) meanings(w io.Writer) {
	fmt.Fprintf(w, "\nWhat HAProxy recorded:\n")
	t := &s.Stats.Total
	for i := 0; i < len(ClientStatuses); i++ {
		c := ClientStatuses[i]
		if n := t.ByClient(c); n > 0 {
			fmt.Fprintf(w, "  client %c %9d  %s\n", c, n, withCause(ClientMeaning(c)))
		}
	}
	for j := 0; j < len(ServerStatuses); j++ {
		c := ServerStatuses[j]
		if n := t.ByServer(c); n > 0 {
			fmt.Fprintf(w, "  server %c %9d  %s\n", c, n, withCause(ServerMeaning(c)))
		}
	}
}

func withCause(m Meaning) string {
	if m.Cause == "" {
		return m.Text
	}
	return string(m.Cause) + ": " + m.Text
}

func (s Summary) timeline(w io.Writer) {
	buckets, width := s.Stats.Timeline()
	if len(buckets) == 0 {
		return
	}
	fmt.Fprintf(w, "\nTimeline (%s buckets):\n", width)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "START\tREQUESTS\tSTICKY\tV\tI\tD\tE\tO\tN\t5xx\t\n")
	layout := "2006-01-02 15:04:05"
	for _, b := range buckets {
		j := Judge(&Stats{Total: b.Counts}, s.Th)
		sticky := "-"
		if j.Returning > 0 {
			sticky = fmt.Sprintf("%.1f%%", 100*j.Stickiness)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", b.Start.In(s.Stats.Last.Location()).Format(layout),
			b.Requests, sticky, b.ByClient('V'), b.ByClient('I'), b.ByClient('D'), b.ByClient('E'), b.ByClient('O'), b.ByClient('N'), b.Errors)
	}
	tw.Flush()
}

func (s Summary) changes(w io.Writer) {
	if len(s.Reader.Changes) == 0 {
		return
	}
	fmt.Fprintf(w, "\nServer state changes HAProxy logged:\n")
	for _, c := range s.Reader.Changes {
		host := ""
		if c.Host != "" {
			host = " on " + c.Host
		}
		fmt.Fprintf(w, "  %s:%d: %s/%s %s%s\n", c.File, c.Line, c.Backend, c.Server, c.State, host)
	}
}

func (s Summary) unreadable(w io.Writer) {
	rd := s.Reader
	if rd.Unreadable == 0 {
		return
	}
	fmt.Fprintf(w, "\nUnreadable lines: %d (not fatal; the first %d shown)\n", rd.Unreadable, len(rd.Samples))
	for _, sm := range rd.Samples {
		fmt.Fprintf(w, "  %s:%d: %s: %s\n", sm.File, sm.Line, sm.Reason, sm.Text)
	}
}

// Verdict is a shorthand for callers mapping the verdict to an exit code.
func (s Summary) Verdict() report.Verdict { return s.Judged.Verdict }

// hasNodes reports whether any line named its host, so the tables need a
// NODE column.
func (s Summary) hasNodes() bool {
	for _, sc := range s.Stats.Servers() {
		if sc.Node != "" {
			return true
		}
	}
	return false
}

func nodeCol(on bool, v string) string {
	if !on {
		return ""
	}
	return v + "\t"
}
