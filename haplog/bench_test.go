package haplog

import (
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"
)

// syntheticLog serves n log lines in the default format with an RFC 3164
// header, spread over servers, statuses and clients: a block of
// distinct lines generated once and served again and again, so the
// benchmark measures the reader, not the generator, and holds no more
// than the block in memory.
type syntheticLog struct {
	block []byte
	lines int // lines in block
	left  int // lines still to serve, in whole blocks
	off   int
}

var benchTerms = []string{"--VN", "--VN", "--VN", "--VN", "--NI", "--II", "--DI", "--EI", "SCVN", "--VU"}

func newSyntheticLog(n int) *syntheticLog {
	const blockLines = 10000
	t0 := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	var b []byte
	for i := 0; i < blockLines; i++ {
		t := t0.Add(time.Duration(i) * 8 * time.Millisecond)
		b = fmt.Appendf(b, "<134>%s lb%d haproxy[1234]: 10.0.%d.%d:%d [%s] fe_main be_app/server%d 0/0/0/1/1 200 127 - - %s 1/1/0/0/0 0/0 {r/%d/%d} \"GET /cart?item=%d HTTP/1.1\"\n",
			t.Format("Jan _2 15:04:05"), i%2, i%250, i%200, 1024+i%60000, t.Format("02/Jan/2006:15:04:05.000"),
			i%3+1, benchTerms[i%len(benchTerms)], i/20, i%20, i)
	}
	return &syntheticLog{block: b, lines: blockLines, left: n}
}

func (s *syntheticLog) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p, s.block[s.off:])
	if s.off += n; s.off == len(s.block) {
		s.off, s.left = 0, s.left-s.lines
	}
	return n, nil
}

// BenchmarkRead10M reads 10 million lines (set HAPLOG_BENCH_LINES to
// change) and reports lines/s and the heap in use at the end, which stays
// flat whatever the line count: nothing grows per line.
func BenchmarkRead10M(b *testing.B) {
	lines := 10_000_000
	if testing.Short() {
		lines = 100_000
	}
	for i := 0; i < b.N; i++ {
		src := newSyntheticLog(lines)
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rd := &Reader{Parser: NewParser(nil, time.UTC)}
		st := NewStats(time.Minute)
		start := time.Now()
		if err := rd.Read("synthetic", src, st.Add); err != nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		if rd.Requests != int64(lines) {
			b.Fatalf("read %d of %d lines: %+v", rd.Requests, lines, rd.Samples)
		}
		b.ReportMetric(float64(lines)/el.Seconds(), "lines/s")
		b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(lines), "alloc-B/line")
	}
}

// BenchmarkParse is the parser alone on one line with a syslog header.
func BenchmarkParse(b *testing.B) {
	p := NewParser(nil, time.UTC)
	line := headerLines["rfc3164"]
	var r Record
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := p.Parse(line, &r); err != nil {
			b.Fatal(err)
		}
	}
}
