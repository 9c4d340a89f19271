package haplog

import (
	"encoding/json"
	"io"
	"time"

	"github.com/stickyprobe/stickyprobe/report"
)

// JSONSchema names the layout JSON writes; fields are only ever added
// within a version.
const JSONSchema = "stickyprobe.logs/v1"

type jsonReport struct {
	Schema     string         `json:"schema"`
	Files      int            `json:"files"`
	Lines      int64          `json:"lines"`
	Requests   int64          `json:"requests"`
	Messages   int64          `json:"messages"`
	Unreadable int64          `json:"unreadable"`
	Samples    []Sample       `json:"unreadable_samples"`
	Changes    []Change       `json:"server_changes"`
	First      *time.Time     `json:"first,omitempty"`
	Last       *time.Time     `json:"last,omitempty"`
	Verdict    report.Verdict `json:"verdict"`
	Reasons    []string       `json:"reasons"`
	Returning  int64          `json:"returning"` // requests that brought a cookie back
	Kept       int64          `json:"kept"`      // of those, sent to the server it names
	Stickiness float64        `json:"stickiness"`
	ErrorRate  float64        `json:"error_rate"`
	Total      jsonCounts     `json:"total"`
	Servers    []jsonServer   `json:"servers"`
	BucketSec  float64        `json:"bucket_seconds,omitempty"`
	Timeline   []jsonBucket   `json:"timeline,omitempty"`
	Switches   []jsonSwitch   `json:"switches,omitempty"`
}

type jsonCounts struct {
	Requests     int64            `json:"requests"`
	Errors       int64            `json:"errors"`
	Redispatched int64            `json:"redispatched"`
	Client       map[string]int64 `json:"client_cookie"` // by status letter, "other"
	Server       map[string]int64 `json:"server_cookie"`
	Pairs        map[string]int64 `json:"pairs"` // "NI": client N, server I
}

type jsonServer struct {
	Key
	jsonCounts
}

type jsonBucket struct {
	Start time.Time `json:"start"`
	jsonCounts
}

type jsonSwitch struct {
	Session   int          `json:"session"`
	Seq       int          `json:"seq"`
	Pin       string       `json:"pin"`
	Backend   string       `json:"backend"`
	Cause     report.Cause `json:"cause"`
	Found     bool         `json:"found"`
	By        string       `json:"by,omitempty"` // mark or address
	File      string       `json:"file,omitempty"`
	Host      string       `json:"host,omitempty"`
	Server    string       `json:"server,omitempty"` // HAProxy's backend/server
	Status    int          `json:"status,omitempty"`
	Term      string       `json:"termination_state,omitempty"`
	Agreement string       `json:"agreement,omitempty"` // confirms or contradicts the cause
}

func countsJSON(c *Counts) jsonCounts {
	out := jsonCounts{Requests: c.Requests, Errors: c.Errors, Redispatched: c.Redispatched,
		Client: map[string]int64{}, Server: map[string]int64{}, Pairs: map[string]int64{}}
	name := func(set string, i int) string {
		if i < len(set) {
			return set[i : i+1]
		}
		return "other"
	}
	for i := range c.Pair {
		for j, n := range c.Pair[i] {
			if n == 0 {
				continue
			}
			cs, ss := name(ClientStatuses, i), name(ServerStatuses, j)
			out.Client[cs] += n
			out.Server[ss] += n
			out.Pairs[cs+ss] += n
		}
	}
	return out
}

// JSON writes the summary and, when j is not nil, the joined switches as
// one JSON object.
func JSON(w io.Writer, s Summary, j *Join) error {
	r := jsonReport{Schema: JSONSchema, Files: s.Files, Lines: s.Reader.Lines, Requests: s.Reader.Requests,
		Messages: s.Reader.Messages, Unreadable: s.Reader.Unreadable, Samples: s.Reader.Samples, Changes: s.Reader.Changes,
		Verdict: s.Judged.Verdict, Reasons: s.Judged.Reasons, Returning: s.Judged.Returning, Kept: s.Judged.Kept,
		Stickiness: s.Judged.Stickiness, ErrorRate: s.Judged.ErrorRate, Total: countsJSON(&s.Stats.Total)}
	if r.Samples == nil {
		r.Samples = []Sample{}
	}
	if r.Changes == nil {
		r.Changes = []Change{}
	}
	if !s.Stats.First.IsZero() {
		r.First, r.Last = &s.Stats.First, &s.Stats.Last
	}
	r.Servers = []jsonServer{}
	for _, sc := range s.Stats.Servers() {
		r.Servers = append(r.Servers, jsonServer{sc.Key, countsJSON(&sc.Counts)})
	}
	buckets, width := s.Stats.Timeline()
	if len(buckets) > 0 {
		r.BucketSec = width.Seconds()
	}
	for _, b := range buckets {
		r.Timeline = append(r.Timeline, jsonBucket{b.Start, countsJSON(&b.Counts)})
	}
	for _, sw := range j.Switches() {
		out := jsonSwitch{Session: sw.Session, Seq: sw.Seq, Pin: sw.From, Backend: sw.To, Cause: sw.Cause, Found: sw.Found, By: sw.By}
		if sw.Found {
			l := &sw.Line
			out.File, out.Host, out.Server, out.Status, out.Term = l.File, l.Host, l.Backend+"/"+l.Server, l.Status, l.Term
			out.Agreement = Agreement(sw.Cause, l)
		}
		r.Switches = append(r.Switches, out)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
