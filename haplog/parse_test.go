package haplog

import (
	"errors"
	"testing"
	"time"
)

// Lines as HAProxy 2.6.12 wrote them here, through `log fd@3 format X`.
const rawLine = `127.0.0.1:52320 [03/Dec/2026:08:34:14.675] fe_main be_app/b1 0/0/0/2/4 200 127 - - --NI 1/1/0/0/0 0/0 {r1 s0 q0} "GET /a HTTP/1.1"`

var headerLines = map[string]string{
	"raw":     rawLine,
	"rfc3164": `<134>Dec  3 08:34:23 localhost haproxy[12435]: ` + rawLine,
	"rfc5424": `<134>1 2026-12-03T08:34:23.994419+00:00 - haproxy 12435 - - ` + rawLine,
	"short":   `<6>` + rawLine,
	"iso":     `2026-12-03T08:34:23.994450+00:00 ` + rawLine,
	"timed":   `<6>2026-12-03T08:34:23.994458+00:00 ` + rawLine,
	// As rsyslog and journald write what they received.
	"rsyslog-traditional": `Dec  3 08:34:23 lb2 haproxy[12435]: ` + rawLine,
	"rsyslog-file":        `2026-12-03T08:34:23.994450+00:00 lb2 haproxy[12435]: ` + rawLine,
	"journal-short":       `Dec 03 08:34:23 lb2 haproxy[12435]: ` + rawLine,
	"rfc5424-sd":          `<134>1 2026-12-03T08:34:23.994419+00:00 lb2 haproxy 12435 - [meta x="a\]b"][o y="1"] ` + rawLine,
	"rsyslog-crlf":        `Dec  3 08:34:23 lb2 haproxy: ` + rawLine + "\r\n",
}

func TestParseHeaders(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 12, 3, 8, 34, 14, 675e6, time.UTC)
	for name, line := range headerLines {
		p := NewParser(nil, time.UTC)
		var r Record
		if err := p.Parse(line, &r); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if r.Client != "127.0.0.1:52320" || !r.Time.Equal(want) || r.Frontend != "fe_main" || r.Backend != "be_app" ||
			r.Server != "b1" || r.Status != 200 || r.Term != "--NI" || r.Captured != "r1 s0 q0" || r.Request != "GET /a HTTP/1.1" {
			t.Errorf("%s: %+v", name, r)
		}
		if r.ClientCookie() != 'N' || r.ServerCookie() != 'I' {
			t.Errorf("%s: cookie statuses %c %c", name, r.ClientCookie(), r.ServerCookie())
		}
		wantHost := map[string]string{"rfc3164": "localhost", "rsyslog-traditional": "lb2", "rsyslog-file": "lb2",
			"journal-short": "lb2", "rfc5424-sd": "lb2", "rsyslog-crlf": "lb2"}[name]
		if r.Host != wantHost {
			t.Errorf("%s: host %q, want %q", name, r.Host, wantHost)
		}
	}
}

func TestParseVariants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line   string
		check  func(r Record) bool
		reason string
	}{
		// No captures at all: HAProxy writes neither brace block.
		{`127.0.0.1:39190 [03/Dec/2026:08:34:35.375] fe_main be_app/b1 0/0/-1/-1/2010 503 217 - - SCVN 1/1/0/0/2 0/0 "GET / HTTP/1.1"`,
			func(r Record) bool { return r.Status == 503 && r.Term == "SCVN" && !r.Redispatched && r.Captured == "" }, "503 without captures"},
		{`127.0.0.1:57010 [03/Dec/2026:08:34:41.311] fe_main be_app/b2 0/2002/1/0/2003 200 127 - - --DI 1/1/0/0/+2 0/0 "GET / HTTP/1.1"`,
			func(r Record) bool { return r.Redispatched && r.ClientCookie() == 'D' }, "redispatch"},
		{`::1:41000 [03/Dec/2026:08:34:41.311] fe~ be/<NOSRV> 0/-1/-1/-1/0 -1 0 - - CR-- 1/1/0/0/0 0/0 {a} {b} "<BADREQ>"`,
			func(r Record) bool {
				return r.Client == "::1:41000" && r.Frontend == "fe" && r.Server == "<NOSRV>" && r.Status == -1 && r.Captured == "a" && r.Request == "<BADREQ>"
			}, "IPv6, TLS frontend, both capture blocks"},
	}
	for _, tt := range tests {
		var r Record
		if err := NewParser(nil, time.UTC).Parse(tt.line, &r); err != nil || !tt.check(r) {
			t.Errorf("%s: %v %+v", tt.reason, err, r)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	bad := map[string]error{
		`garbage`: errClient,
		`127.0.0.1:1 03/Dec/2026:08:34:41.311 fe be/s 0/0/0/0/0 200 1 - - ---- 1/1/1/1/0 0/0 "GET /"`: errDate,
		`127.0.0.1:1 [03/Dec/2026:08:34:41.311] fe be/s 0/0/0/0/0 1 - 2/2/2/2/0 0/0`:                  errFields,
		// option tcplog: no HTTP status, a 2-character termination state.
		`127.0.0.1:1 [03/Dec/2026:08:34:41.311] fe be/s 0/0/5 212 -- 1/1/1/1/0 0/0 x y`:                 errTimers,
		`127.0.0.1:1 [03/Dec/2026:08:34:41.311] fe be/s 0/0/0/0/0 2x0 1 - - --NI 1/1/1/1/0 0/0 "GET /"`: errStatus,
		`127.0.0.1:1 [32/Dec/2026:08:34:41.311] fe be/s 0/0/0/0/0 200 1 - - --NI 1/1/1/1/0 0/0 "GET /"`: errDate,
	}
	for line, want := range bad {
		var r Record
		if err := NewParser(nil, time.UTC).Parse(line, &r); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", line, err, want)
		}
	}
	var r Record
	msg := `Server be_app/b1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms.`
	if err := NewParser(nil, time.UTC).Parse(msg, &r); !errors.Is(err, ErrMessage) {
		t.Errorf("server message: %v", err)
	}
}

func TestCustomFormat(t *testing.T) {
	t.Parallel()
	f, err := ParseFormat(`"%ci:%cp\ [%tr]\ %ft\ %b/%s\ %ST\ %tsc\ %ID\ %{+Q}r\ %hr"`)
	if err != nil {
		t.Fatal(err)
	}
	var r Record
	line := `10.0.0.9:4242 [03/Dec/2026:08:34:41.311] fe be/s2 302 --VN abc-123 "GET /x y HTTP/1.1" {m=1}`
	if err := NewParser(f, time.UTC).Parse(line, &r); err != nil {
		t.Fatal(err)
	}
	if r.Client != "10.0.0.9:4242" || r.Server != "s2" || r.Status != 302 || r.Term != "--VN" || r.UniqueID != "abc-123" ||
		r.Request != "GET /x y HTTP/1.1" || r.Captured != "m=1" {
		t.Errorf("%+v", r)
	}
	// The default format as a custom one reads the same line the same way.
	def, err := ParseFormat("${HAPROXY_HTTP_LOG_FMT}")
	if err != nil {
		t.Fatal(err)
	}
	var a, b Record
	for _, line := range []string{rawLine, `::1:41000 [03/Dec/2026:08:34:41.311] fe be/s1 0/0/0/0/0 200 1 - - --VN 1/1/0/0/+1 0/0 "GET / HTTP/1.1"`} {
		if err := NewParser(def, time.UTC).Parse(line, &a); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		_ = NewParser(nil, time.UTC).Parse(line, &b)
		if a != b {
			t.Errorf("custom %+v\ndefault %+v", a, b)
		}
	}
	if _, err := ParseFormat("%ci %ST"); err == nil {
		t.Error("a format without tsc was accepted")
	}
	if err := NewParser(f, time.UTC).Parse("10.0.0.9:4242 (oops)", &r); err == nil {
		t.Error("a line not matching the format was accepted")
	}
}

// `option httplog clf` as HAProxy 2.6.12 wrote it here; --log-format clf.
func TestCLF(t *testing.T) {
	t.Parallel()
	f, err := ParseFormat("clf")
	if err != nil {
		t.Fatal(err)
	}
	var r Record
	line := `127.0.0.1 - - [03/Dec/2026:09:16:52 +0000] "GET /y HTTP/1.1" 200 127 "" "" 50848 844 "fe_main" "be_app" "b1" 0 0 0 1 1 --VN 1 1 0 0 0 0 0 "" "" `
	if err := NewParser(f, time.Local).Parse(line, &r); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 12, 3, 9, 16, 52, 0, time.UTC)
	if r.Client != "127.0.0.1:50848" || !r.Time.Equal(want) || r.Request != "GET /y HTTP/1.1" || r.Status != 200 ||
		r.Frontend != "fe_main" || r.Backend != "be_app" || r.Server != "b1" || r.Term != "--VN" {
		t.Errorf("%+v", r)
	}
}
