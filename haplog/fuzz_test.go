package haplog

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzParse: no line panics the parser, a parsed record's fields come from
// the line, and Stats takes whatever it returns.
func FuzzParse(f *testing.F) {
	for _, l := range headerLines {
		f.Add(l, "")
	}
	f.Add(`127.0.0.1:57010 [03/Dec/2026:08:34:41.311] fe_main be_app/b2 0/2002/1/0/2003 200 127 - - --DI 1/1/0/0/+2 0/0 "GET / HTTP/1.1"`, "")
	f.Add(`10.0.0.9:4242 [03/Dec/2026:08:34:41.311] fe be/s2 302 --VN abc "GET /x HTTP/1.1" {m=1}`, `%ci:%cp [%tr] %ft %b/%s %ST %tsc %ID %{+Q}r %hr`)
	f.Add(`<134>1 x - - - - [a`, "")
	f.Add("Server be/s is DOWN, reason", "")
	f.Fuzz(func(t *testing.T, line, format string) {
		var fm *Format
		if format != "" {
			var err error
			if fm, err = ParseFormat(format); err != nil {
				fm = nil
			}
		}
		var r Record
		p := NewParser(fm, time.UTC)
		if err := p.Parse(line, &r); err != nil {
			return
		}
		if len(r.Term) != 4 {
			t.Fatalf("term %q", r.Term)
		}
		for _, s := range []string{r.Frontend, r.Backend, r.Server, r.Term, r.Request} {
			if !strings.Contains(line, s) {
				t.Fatalf("field %q is not in the line", s)
			}
		}
		st := NewStats(time.Minute)
		st.Add(&r)
		if st.Total.Requests != 1 || st.Total.ByClient(r.ClientCookie()) != 1 {
			t.Fatalf("stats %+v", st.Total)
		}
	})
}

// FuzzReader: any bytes, lines counted, nothing kept beyond the bounds.
func FuzzReader(f *testing.F) {
	f.Add([]byte(rawLine + "\n" + "garbage\n\n" + rawLine))
	f.Add([]byte{0x1f, 0x8b, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := &Reader{Parser: NewParser(nil, time.UTC)}
		n := int64(0)
		if err := rd.Read("fuzz", bytes.NewReader(data), func(*Record) { n++ }); err != nil {
			t.Fatal(err)
		}
		if n != rd.Requests || rd.Requests+rd.Unreadable+rd.Messages > rd.Lines || len(rd.Samples) > DefaultSamples {
			t.Fatalf("requests %d/%d unreadable %d messages %d lines %d samples %d", n, rd.Requests, rd.Unreadable, rd.Messages, rd.Lines, len(rd.Samples))
		}
	})
}
