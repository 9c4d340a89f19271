package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/probe"
)

// A HAR (HTTP Archive 1.2, http://www.softwareishard.com/blog/har-12-spec/)
// has one page per session and one entry per request; it opens in the
// network panel of Chromium's and Firefox's dev tools and in HAR viewers.
//
// Memory: a session is only known broken at its first switch, and keeping
// every request's headers until then would cost a kilobyte per request for
// the whole run. Instead the run writes its events, headers included, to
// the events file (a temporary one when --events is not given) and the
// HAR is written afterwards from that file in two streaming passes: the
// pages (one small record per selected session), then the entries, one at
// a time. During the run --har costs no memory per session beyond the
// summary's; afterwards about 200 bytes per session the HAR shows. The
// same code writes the HAR of `stickyprobe report --format har`, so the
// two are identical.

// HAROptions say which sessions a HAR shows and how it describes itself.
type HAROptions struct {
	All      bool   // every session, control group included (--har-all); else the broken ones
	Creator  string // "stickyprobe VERSION"
	Redacted bool   // secrets were redacted when the events were recorded
	// Origin maps a merged session id to its file's label and local id;
	// nil for a single run.
	Origin func(id int) (string, int)
}

// EventSource yields a run's events in the order they were recorded.
type EventSource interface {
	Each(fn func(*probe.Event) error) error
}

// HAR writes the sessions s judged broken (all with opts.All) as HAR 1.2,
// reading their requests from events.
func HAR(w io.Writer, s *Summary, events EventSource, opts HAROptions) error {
	pages, index, err := harPages(s, events, opts)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	name, version, _ := strings.Cut(opts.Creator, " ")
	if name == "" {
		name, version = "stickyprobe", "dev"
	}
	comment := "stickyprobe: one page per broken session"
	if opts.All {
		comment = "stickyprobe: one page per session"
	}
	if opts.Redacted {
		comment += "; cookie values other than the affinity token and credentials are redacted (redacted:<hash>, equal secrets hash alike)"
	} else {
		comment += "; SECRETS ARE NOT REDACTED (--show-secrets)"
	}
	head, err := json.Marshal(map[string]any{"name": name, "version": version})
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, "{\"log\":{\"version\":\"1.2\",\"creator\":%s,\"comment\":%s,\n\"pages\":[", head, jsonString(comment))
	for i, p := range pages {
		if err := writeItem(bw, i, p); err != nil {
			return err
		}
	}
	bw.WriteString("],\n\"entries\":[")
	n := 0
	err = events.Each(func(ev *probe.Event) error {
		i, ok := index[ev.Session]
		if !ok {
			return nil
		}
		e := harEntryOf(ev, &pages[i], s.Session(ev.Session))
		n++
		return writeItem(bw, n-1, e)
	})
	if err != nil {
		return err
	}
	bw.WriteString("]}}\n")
	return bw.Flush()
}

func writeItem(w *bufio.Writer, i int, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if i > 0 {
		w.WriteByte(',')
	}
	w.WriteByte('\n')
	_, err = w.Write(data)
	return err
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

// harPages selects the sessions and makes their pages, in the order of
// their first request.
func harPages(s *Summary, events EventSource, opts HAROptions) ([]harPage, map[int]int, error) {
	var pages []harPage
	index := make(map[int]int)
	err := events.Each(func(ev *probe.Event) error {
		if _, ok := index[ev.Session]; ok {
			return nil
		}
		v := s.Session(ev.Session)
		if !opts.All && (v.Control || !v.Broken) {
			return nil
		}
		source, local := "", ev.Session
		if opts.Origin != nil {
			source, local = opts.Origin(ev.Session)
		}
		id := fmt.Sprintf("session-%d", local)
		if source != "" {
			id = source + ":" + id
		}
		p := harPage{
			Started: harTime(ev.Start),
			ID:      id,
			Title:   pageTitle(source, local, v, ev.Frontend),
			Timings: harPageTimings{OnContentLoad: -1, OnLoad: -1},
			Probe: harPageProbe{Session: local, Source: source, Control: v.Control, Broken: v.Broken, Pin: v.Pin,
				Cause: v.Cause, Refusal: v.Refusal, Requests: v.Requests, Switches: v.Switches},
		}
		index[ev.Session] = len(pages)
		pages = append(pages, p)
		return nil
	})
	return pages, index, err
}

func pageTitle(source string, local int, v SessionView, frontend string) string {
	who := fmt.Sprintf("session %d", local)
	if source != "" {
		who = fmt.Sprintf("session %s:%d", source, local)
	}
	if v.Control {
		who = "control " + who
	}
	what := "sticky"
	if v.Broken {
		what = string(v.Cause)
		if v.Refusal != "" {
			what += " (" + string(v.Refusal) + ")"
		}
	}
	pin := v.Pin
	if pin == "" {
		pin = "-"
	}
	return fmt.Sprintf("%s: %s, pinned to %s, %s", who, what, pin, frontend)
}

// harTime is ISO 8601 with milliseconds, which every viewer parses.
func harTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func msUS(us int64) float64 {
	if us < 0 {
		return -1
	}
	return float64(us) / 1000
}

// harEntryOf turns one event into an entry. An event recorded without its
// exchange (no --har or -vv at the time) still gives an entry, with the
// latency as the wait and no headers.
func harEntryOf(ev *probe.Event, p *harPage, v SessionView) harEntry {
	e := harEntry{
		Pageref: p.ID,
		Started: harTime(ev.Start),
		Request: harRequest{Method: http.MethodGet, URL: ev.Frontend, HTTPVersion: "HTTP/1.1",
			Cookies: []harCookie{}, Headers: []harNV{}, QueryString: []harNV{}, HeadersSize: -1},
		Response: harResponse{Status: ev.Status, Cookies: []harCookie{}, Headers: []harNV{},
			Content: harContent{MimeType: "x-unknown", Comment: "body not recorded"}, HeadersSize: -1, BodySize: -1},
		Cache:   struct{}{},
		Timings: harTimings{Blocked: -1, DNS: -1, Connect: -1, SSL: -1, Wait: msUS(ev.Latency.Microseconds())},
	}
	if _, port, err := net.SplitHostPort(ev.Local); err == nil {
		e.Connection = port // the client port names the TCP connection
	}
	if x := ev.HTTP; x != nil {
		e.Request.Method, e.Request.URL = x.Method, x.URL
		for _, h := range x.Request {
			e.Request.Headers = append(e.Request.Headers, harNV{h.Name, h.Value})
			if strings.EqualFold(h.Name, "Cookie") {
				e.Request.Cookies = append(e.Request.Cookies, parseCookieHeader(h.Value)...)
			}
		}
		for _, h := range x.Response {
			e.Response.Headers = append(e.Response.Headers, harNV{h.Name, h.Value})
			switch {
			case strings.EqualFold(h.Name, "Set-Cookie"):
				if c, err := http.ParseSetCookie(h.Value); err == nil {
					e.Response.Cookies = append(e.Response.Cookies, harCookieOf(c))
				}
			case strings.EqualFold(h.Name, "Content-Type"):
				e.Response.Content.MimeType = h.Value
			}
		}
		if ev.Status != 0 {
			e.Response.HTTPVersion, e.Response.StatusText = x.Proto, x.StatusText
			e.Response.BodySize = x.BodySize
			e.Response.Content.Size = max(x.BodySize, 0)
		}
		if host, _, err := net.SplitHostPort(x.Remote); err == nil {
			e.ServerIP = host
		}
		t := x.Timings
		e.Timings = harTimings{Blocked: msUS(t.Blocked), DNS: msUS(t.DNS), Connect: msUS(t.Connect), SSL: msUS(t.TLS),
			Send: msUS(t.Send), Wait: msUS(t.Wait), Receive: msUS(t.Receive)}
	}
	e.Request.QueryString = queryString(e.Request.URL)
	if ev.Status == 0 {
		e.Response.HTTPVersion = ""
	}
	// HAR: time is the sum of the phases that happened (ssl is inside
	// connect); rounded to the microsecond like the phases.
	t := e.Timings
	var sum int64
	for _, ph := range []float64{t.Blocked, t.DNS, t.Connect, t.Send, t.Wait, t.Receive} {
		if ph > 0 {
			sum += int64(ph*1000 + 0.5)
		}
	}
	e.Time = float64(sum) / 1000
	if ev.Error != "" && ev.Error != probe.ErrHTTP5xx {
		e.Error = string(ev.Error)
		if ev.Detail != "" {
			e.Error += ": " + ev.Detail
		}
	}
	isSwitch := ev.Backend != "" && v.Pin != "" && ev.Backend != v.Pin
	e.Probe = harEntryProbe{
		Session: p.Probe.Session, Source: p.Probe.Source, Seq: ev.Seq, Control: ev.Control,
		Frontend: ev.Frontend, Backend: ev.Backend, Pin: v.Pin, Switch: isSwitch,
		TokenName: ev.TokenName, TokenHeld: ev.TokenHeld, TokenSent: ev.TokenSent, TokenSet: ev.TokenSet,
		TokenDeleted: ev.TokenDeleted, TokenRefused: ev.TokenRefused,
		Error: ev.Error, Detail: ev.Detail, Reused: ev.Reused, LatencyMS: msUS(ev.Latency.Microseconds()),
	}
	if isSwitch {
		e.Probe.Cause = v.Cause
	}
	return e
}

// queryString lists a URL's query parameters in their order (url.Values
// is a map, whose order would change the HAR from one run to the next).
func queryString(raw string) []harNV {
	out := []harNV{}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	for _, kv := range strings.Split(u.RawQuery, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		out = append(out, harNV{k, v})
	}
	return out
}

func parseCookieHeader(v string) []harCookie {
	var out []harCookie
	for _, part := range strings.Split(v, ";") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && name != "" {
			out = append(out, harCookie{Name: name, Value: val})
		}
	}
	return out
}

func harCookieOf(c *http.Cookie) harCookie {
	hc := harCookie{Name: c.Name, Value: c.Value, Path: c.Path, Domain: c.Domain, HTTPOnly: c.HttpOnly, Secure: c.Secure}
	if !c.Expires.IsZero() {
		hc.Expires = harTime(c.Expires)
	}
	return hc
}
