package report

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/probe"
)

const (
	testHeader  = `{"stickyprobe_events":1,"creator":"stickyprobe test","sessions":2,"control_sessions":1,"redacted":true,"options":{"min_stickiness":1,"max_error_rate":0,"cookie_token":true},"run":{"targets":["http://a.example/"],"identify":"auto","token":"auto","conn":"fresh","seed":3,"started":"2025-03-14T03:07:00Z","duration_s":0}}`
	testEvent0  = `{"session":0,"seq":0,"frontend":"http://a.example/","start":"2025-03-14T03:07:00.1Z","latency_ns":1000000,"status":200,"backend":"s1","token_name":"SERVERID","token_set":"s1"}`
	testEvent1  = `{"session":0,"seq":1,"frontend":"http://a.example/","start":"2025-03-14T03:07:00.2Z","latency_ns":1000000,"status":200,"backend":"s2","token_name":"SERVERID","token_sent":"s1"}`
	testControl = `{"session":2,"control":true,"seq":0,"frontend":"http://a.example/","start":"2025-03-14T03:07:00.3Z","latency_ns":1000000,"status":200,"backend":"s2"}`
	testTrailer = `{"stickyprobe_events_end":1,"events":3,"run":{"targets":["http://a.example/"],"identify":"auto","token":"auto","conn":"fresh","seed":3,"started":"2025-03-14T03:07:00Z","duration_s":0.5}}`
)

func file(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func decodeAll(name, data string) ([]probe.Event, *EventDecoder, error) {
	dec, err := NewEventDecoder(strings.NewReader(data), name)
	if err != nil {
		return nil, nil, err
	}
	var out []probe.Event
	for {
		var ev probe.Event
		err := dec.Decode(&ev)
		if err == io.EOF {
			return out, dec, nil
		}
		if err != nil {
			return out, dec, err
		}
		out = append(out, ev)
	}
}

func TestEventDecoderReadsAFile(t *testing.T) {
	evs, dec, err := decodeAll("e.jsonl", file(testHeader, "", testEvent0, testEvent1, testControl, testTrailer))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 || evs[1].TokenSent != "s1" || !evs[2].Control {
		t.Errorf("events %+v", evs)
	}
	h := dec.Header()
	if h.Sessions != 2 || h.Control != 1 || !h.Options.CookieToken || h.Run.Seed != 3 {
		t.Errorf("header %+v", h)
	}
	if tr, ok := dec.Trailer(); !ok || tr.Run.DurationS != 0.5 {
		t.Errorf("trailer %+v %v", tr, ok)
	}
}

// Every error names the file and the line, so a user can open it there.
func TestEventDecoderRejectsGarbage(t *testing.T) {
	with := func(ev, from, to string) string { return strings.Replace(ev, from, to, 1) }
	tests := []struct{ name, data, want string }{
		{"empty", "", "e.jsonl:1: empty file"},
		{"no header", file(testEvent0), "e.jsonl:1: no header line"},
		{"newer format", file(with(testHeader, `"stickyprobe_events":1`, `"stickyprobe_events":2`)), "e.jsonl:1: events format version 2: written by a newer"},
		{"bad threshold", file(with(testHeader, `"min_stickiness":1`, `"min_stickiness":7`)), "e.jsonl:1: header: thresholds"},
		{"too many sessions", file(with(testHeader, `"sessions":2`, `"sessions":99999999`)), "e.jsonl:1: header: 99999999 sessions"},
		{"not JSON", file(testHeader, testEvent0, "{oops"), "e.jsonl:3: invalid character"},
		{"array", file(testHeader, "[1,2]"), "e.jsonl:2: json: cannot unmarshal array"},
		{"wrong type", file(testHeader, with(testEvent0, `"status":200`, `"status":"200"`)), "e.jsonl:2: json: cannot unmarshal string"},
		{"no frontend", file(testHeader, with(testEvent0, `"frontend":"http://a.example/",`, ``)), "e.jsonl:2: event without a frontend"},
		{"no start", file(testHeader, with(testEvent0, `"start":"2025-03-14T03:07:00.1Z",`, ``)), "e.jsonl:2: event without a start time"},
		{"session out of range", file(testHeader, with(testEvent0, `"session":0`, `"session":7`)), "e.jsonl:2: session 7: the header announces sessions 0..2"},
		{"negative session", file(testHeader, with(testEvent0, `"session":0`, `"session":-1`)), "e.jsonl:2: session -1"},
		{"control flag", file(testHeader, with(testControl, `"control":true,`, ``)), "e.jsonl:2: session 2: control is false"},
		{"out of order", file(testHeader, testEvent1, testEvent0), "e.jsonl:3: session 0: seq 0 after seq 1"},
		{"repeated seq", file(testHeader, testEvent0, testEvent0), "e.jsonl:3: session 0: seq 0 after seq 0"},
		{"negative latency", file(testHeader, with(testEvent0, `"latency_ns":1000000`, `"latency_ns":-5`)), "e.jsonl:2: session 0 seq 0: negative latency"},
		{"bad status", file(testHeader, with(testEvent0, `"status":200`, `"status":42`)), "e.jsonl:2: session 0 seq 0: HTTP status 42"},
		{"unknown error kind", file(testHeader, with(testEvent0, `"status":200`, `"error":"gremlins"`)), `e.jsonl:2: session 0 seq 0: unknown error kind "gremlins"`},
		{"unknown refusal", file(testHeader, with(testEvent0, `"status":200`, `"token_refused":"moon"`)), `unknown refusal "moon"`},
		{"negative timing", file(testHeader, with(testEvent0, `"status":200`, `"http":{"method":"GET","url":"x","request_headers":[],"body_size":0,"timings":{"wait_us":-4}}`)), "e.jsonl:2: session 0 seq 0: negative timing"},
		{"second header", file(testHeader, testEvent0, testHeader), "e.jsonl:3: a second header line"},
		{"trailer count", file(testHeader, testEvent0, testTrailer), "e.jsonl:3: the trailer counts 3 events, the file has 1"},
		{"after trailer", file(testHeader, testEvent0, testEvent1, testControl, testTrailer, testEvent0), "e.jsonl:6: a line after the trailer"},
		{"line too long", file(testHeader, `{"detail":"`+strings.Repeat("x", maxEventLine)+`"}`), "e.jsonl:2: line longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeAll("e.jsonl", tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrEvents) {
				t.Errorf("error %v, want ErrEvents mentioning %q", err, tt.want)
			}
		})
	}
}

// FuzzEventDecoder: whatever the bytes, decoding never panics; a file that
// decodes replays into every format without panicking; and it encodes
// back to a file that decodes to the same events.
func FuzzEventDecoder(f *testing.F) {
	f.Add([]byte(file(testHeader, testEvent0, testEvent1, testControl, testTrailer)))
	f.Add([]byte(file(testHeader, testEvent0)))
	f.Add([]byte(file(testHeader, `{"session":1,"seq":0,"frontend":"h","start":"2025-03-14T03:07:00Z","http":{"method":"GET","url":"http://a/?x=1&y","request_headers":[{"name":"Cookie","value":"a=b; c"}],"response_headers":[{"name":"Set-Cookie","value":"S=1; Expires=Thu, 01-Jan-1970 00:00:01 GMT"}],"remote":"[::1]:80","body_size":-1,"timings":{"dns_us":-1}}}`)))
	f.Add([]byte("{}\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, dec, err := decodeAll("fuzz.jsonl", string(data))
		if err != nil {
			if !errors.Is(err, ErrEvents) {
				t.Fatalf("error without ErrEvents: %v", err)
			}
			return
		}
		h := dec.Header()
		if h.Sessions+h.Control > 1<<14 {
			// A summary keeps ~200 bytes per session id up to the highest,
			// so a header announcing millions costs hundreds of MB per
			// input: the decoder's checks ran, the rest would only be slow.
			return
		}
		var again bytes.Buffer
		enc, err := NewEventEncoder(&again, h)
		if err != nil {
			t.Fatal(err)
		}
		s := NewSummary(h.Options)
		for i := range evs {
			s.Add(&evs[i])
			if err := enc.Encode(&evs[i]); err != nil {
				t.Fatal(err)
			}
		}
		rep := s.Close(h.Run)
		for _, render := range []func(io.Writer, *Report) error{Table, JSON, Markdown, JUnit} {
			if err := render(io.Discard, rep); err != nil {
				t.Fatal(err)
			}
		}
		if err := HAR(io.Discard, s, eventSlice(evs), HAROptions{All: true}); err != nil {
			t.Fatal(err)
		}
		if err := enc.Close(h.Run); err != nil {
			t.Fatal(err)
		}
		back, _, err := decodeAll("again.jsonl", again.String())
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v\n%s", err, again.String())
		}
		if len(back) != len(evs) {
			t.Fatalf("%d events, %d after a round trip", len(evs), len(back))
		}
	})
}
