package report

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
)

// ordered returns the scripts' events in the order feed adds them: one
// request of each session per round.
func ordered(scripts ...script) []probe.Event {
	evs := make([][]probe.Event, len(scripts))
	rounds := 0
	for i, sc := range scripts {
		evs[i] = sc.events()
		rounds = max(rounds, len(evs[i]))
	}
	var out []probe.Event
	for r := 0; r < rounds; r++ {
		for i := range evs {
			if r < len(evs[i]) {
				out = append(out, evs[i][r])
			}
		}
	}
	return out
}

// traced gives each event the exchange a traced run would have recorded:
// headers with the token and a redacted application cookie, timings that
// add up to the latency.
func traced(evs []probe.Event) []probe.Event {
	out := make([]probe.Event, len(evs))
	for i, ev := range evs {
		ev.Local = "127.0.0.1:" + strconv.Itoa(40000+i)
		x := &probe.Exchange{Method: "GET", URL: ev.Frontend + "?lang=en&q=a%20b", BodySize: -1, Remote: "127.0.0.1:8080",
			Request: []probe.Header{{Name: "Host", Value: "shop.example"}, {Name: "User-Agent", Value: "stickyprobe"},
				{Name: "Authorization", Value: "Bearer redacted:4be0a1"}}}
		cookie := "JSESSIONID=redacted:9c1f00"
		if ev.TokenSent != "" {
			cookie = "SERVERID=" + ev.TokenSent + "; " + cookie
		}
		if ev.Seq > 0 {
			x.Request = append(x.Request, probe.Header{Name: "Cookie", Value: cookie})
		}
		us := ev.Latency.Microseconds()
		x.Timings = probe.Timings{Blocked: 10, DNS: -1, Connect: 40, TLS: -1, Send: 5, Wait: us - 75, Receive: 20}
		if ev.Status != 0 {
			x.Proto, x.StatusText, x.BodySize = "HTTP/1.1", "OK", 23
			x.Response = []probe.Header{{Name: "Content-Type", Value: "text/plain"}, {Name: "X-Backend", Value: ev.Backend}}
			if ev.TokenSet != "" {
				x.Response = append(x.Response, probe.Header{Name: "Set-Cookie", Value: "SERVERID=" + ev.TokenSet + "; path=/"})
			}
			if ev.Seq == 0 {
				x.Response = append(x.Response, probe.Header{Name: "Set-Cookie", Value: "JSESSIONID=redacted:9c1f00; Path=/; HttpOnly"})
			}
		} else {
			x.Timings = probe.Timings{Blocked: 10, DNS: -1, Connect: us - 10, TLS: -1}
		}
		ev.HTTP = x
		out[i] = ev
	}
	return out
}

// header describes the scripts' sessions: measured ids first, then
// control ids, as the probe numbers them.
func header(opts Options, run Run, evs []probe.Event) EventsHeader {
	firstControl, top := -1, 0
	for _, ev := range evs {
		top = max(top, ev.Session+1)
		if ev.Control && (firstControl < 0 || ev.Session < firstControl) {
			firstControl = ev.Session
		}
	}
	if firstControl < 0 {
		firstControl = top
	}
	return EventsHeader{Creator: "stickyprobe test", Sessions: firstControl, Control: top - firstControl,
		Redacted: true, Options: opts, Run: run}
}

// save writes an events file; without a trailer when run is nil.
func save(t testing.TB, h EventsHeader, evs []probe.Event, run *Run) []byte {
	t.Helper()
	return saveWith(t, h, evs, func(enc *EventEncoder) error {
		if run == nil {
			return nil
		}
		return enc.Close(*run)
	})
}

// saveWith writes an events file whose end close writes (a trailer, or
// nothing for a killed run).
func saveWith(t testing.TB, h EventsHeader, evs []probe.Event, close func(*EventEncoder) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := NewEventEncoder(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if err := enc.Encode(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := close(enc); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func memSource(name string, data []byte) Source {
	return Source{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

// eventSlice is an EventSource over events in memory.
type eventSlice []probe.Event

func (s eventSlice) Each(fn func(*probe.Event) error) error {
	for i := range s {
		if err := fn(&s[i]); err != nil {
			return err
		}
	}
	return nil
}

// renderAll renders r in every format but HAR.
func renderAll(t *testing.T, r *Report) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for ext, render := range map[string]func(io.Writer, *Report) error{"table": Table, "json": JSON, "md": Markdown, "junit.xml": JUnit} {
		var buf bytes.Buffer
		if err := render(&buf, r); err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		out[ext] = buf.Bytes()
	}
	return out
}

// lines numbers a file's lines for error messages.
func lines(data []byte) string {
	var b strings.Builder
	for i, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		fmt.Fprintf(&b, "%3d %s\n", i+1, l)
	}
	return b.String()
}

var _ = time.Second
