package haplog

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/report"
)

func rec(term string, status int, at time.Time) *Record {
	return &Record{Frontend: "fe", Backend: "be", Server: "s1", Term: term, Status: status, Time: at}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	th := Thresholds{MinStickiness: 0.9, MaxErrorRate: 0.1}
	tests := []struct {
		terms []string
		want  report.Verdict
	}{
		{nil, report.Error},
		{[]string{"--NI", "--NI"}, report.Inconclusive},
		{[]string{"----", "----"}, report.Inconclusive},
		{[]string{"--NI", "--VN", "--VN", "--VN", "--VN", "--VN", "--VN", "--VN", "--VN", "--VN", "--II"}, report.Pass}, // 9 of 10 kept
		{[]string{"--VN", "--II"}, report.Fail},
		{[]string{"--VN", "--DI", "--EI", "--OI"}, report.Fail},
	}
	for _, tt := range tests {
		s := NewStats(time.Minute)
		for _, term := range tt.terms {
			s.Add(rec(term, 200, t0))
		}
		if j := Judge(s, th); j.Verdict != tt.want {
			t.Errorf("%v: %s %v, want %s", tt.terms, j.Verdict, j.Reasons, tt.want)
		}
	}
	s := NewStats(0)
	for i := 0; i < 10; i++ {
		s.Add(rec("--VN", map[bool]int{true: 503, false: 200}[i < 2], t0))
	}
	if j := Judge(s, th); j.Verdict != report.Fail || !strings.Contains(strings.Join(j.Reasons, " "), "--max-error-rate") {
		t.Errorf("20%% errors: %s %v", j.Verdict, j.Reasons)
	}
}

func TestStatsBoundedTimeline(t *testing.T) {
	t.Parallel()
	s := NewStats(time.Second)
	t0 := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	const n = 3 * MaxBuckets
	for i := 0; i < n; i++ {
		s.Add(rec("--VN", 200, t0.Add(time.Duration(i)*time.Second)))
	}
	buckets, width := s.Timeline()
	if len(buckets) > MaxBuckets || width < 2*time.Second {
		t.Fatalf("%d buckets of %s", len(buckets), width)
	}
	var total int64
	for i, b := range buckets {
		total += b.Requests
		if i > 0 && !b.Start.After(buckets[i-1].Start) {
			t.Fatalf("buckets out of order at %d", i)
		}
	}
	if total != n || s.Total.Requests != n || !s.First.Equal(t0) {
		t.Errorf("total %d of %d, first %s", total, n, s.First)
	}
}

func TestStatsBoundedKeys(t *testing.T) {
	t.Parallel()
	s := NewStats(0)
	for i := 0; i < MaxKeys+10; i++ {
		r := rec("--VN", 200, time.Time{})
		r.Server = "s" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + time.Duration(i).String()
		s.Add(r)
	}
	servers := s.Servers()
	if len(servers) != MaxKeys+1 || servers[0].Server == "" {
		t.Fatalf("%d keys", len(servers))
	}
	for _, sc := range servers {
		if sc.Server == Other && sc.Requests != 10 {
			t.Errorf("other holds %d, want 10", sc.Requests)
		}
	}
}

// Follow reads what is appended, and goes on with the new file after a
// rotation, until its context ends.
func TestFollowRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "haproxy.log")
	if err := os.WriteFile(path, []byte("one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := Follow(ctx, path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make(chan string, 10)
	go func() {
		b := make([]byte, 64)
		var acc []byte
		for {
			n, err := r.Read(b)
			acc = append(acc, b[:n]...)
			for {
				i := bytes.IndexByte(acc, '\n')
				if i < 0 {
					break
				}
				got <- string(acc[:i])
				acc = acc[i+1:]
			}
			if err != nil {
				close(got)
				return
			}
		}
	}()
	next := func(want string) {
		t.Helper()
		select {
		case line := <-got:
			if line != want {
				t.Fatalf("read %q, want %q", line, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %q within 5 s", want)
		}
	}
	next("one")
	appendTo(t, path, "two\n")
	next("two")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, "three\n")
	next("three")
	cancel()
	select {
	case _, open := <-got:
		if open {
			t.Fatal("a line after the end")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not end with its context")
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestOpenGzipAndLongLines(t *testing.T) {
	t.Parallel()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	io.WriteString(zw, rawLine+"\n"+strings.Repeat("x", MaxLine+10)+"\n"+rawLine+"\n")
	zw.Close()
	path := filepath.Join(t.TempDir(), "haproxy.log.2") // gzip without .gz
	os.WriteFile(path, z.Bytes(), 0o600)
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rd := &Reader{Parser: NewParser(nil, time.UTC)}
	if err := rd.Read(path, r, func(*Record) {}); err != nil {
		t.Fatal(err)
	}
	if rd.Requests != 2 || rd.Unreadable != 1 || rd.Lines != 3 || !strings.Contains(rd.Samples[0].Reason, "64 KiB") {
		t.Errorf("requests %d unreadable %d lines %d samples %+v", rd.Requests, rd.Unreadable, rd.Lines, rd.Samples)
	}
	// A truncated gzip file: what was read counts, the error names the file.
	os.WriteFile(path, z.Bytes()[:len(z.Bytes())/2], 0o600)
	r2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	rd2 := &Reader{Parser: NewParser(nil, time.UTC)}
	if err := rd2.Read(path, r2, func(*Record) {}); err == nil || !strings.Contains(err.Error(), path) || rd2.Requests < 1 {
		t.Errorf("truncated: %v, %d requests", err, rd2.Requests)
	}
}
