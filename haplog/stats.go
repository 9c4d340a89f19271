package haplog

import (
	"sort"
	"strings"
	"time"
)

// The statuses in the order reports show them; anything else HAProxy
// might write is counted in the last column, "other".
const (
	ClientStatuses = "NIDVEOU-"
	ServerStatuses = "NIUPRD-"
)

// Bounds that keep Stats small whatever the input.
const (
	MaxKeys    = 10000 // distinct frontend/backend/server triples; more go to Other
	MaxBuckets = 2000  // timeline buckets; more widen the bucket
)

// Other is the frontend, backend and server name of the key that collects
// requests beyond MaxKeys distinct ones.
const Other = "(other)"

// Key names one server as the log names it, on one node: the host of the
// syslog header ("" without one), so two LB nodes that disagree show apart.
type Key struct {
	Node     string `json:"node,omitempty"`
	Frontend string `json:"frontend"`
	Backend  string `json:"backend"`
	Server   string `json:"server"`
}

// Counts are requests by cookie status. Pair[c][s] counts requests with
// client status ClientStatuses[c] and server status ServerStatuses[s];
// the last row and column are "other".
type Counts struct {
	Requests     int64                                                   `json:"requests"`
	Errors       int64                                                   `json:"errors"` // 5xx, or no status at all
	Redispatched int64                                                   `json:"redispatched"`
	Pair         [len(ClientStatuses) + 1][len(ServerStatuses) + 1]int64 `json:"-"`
}

// ByClient returns the requests whose client cookie status is status.
func (c *Counts) ByClient(status byte) int64 {
	i := strings.IndexByte(ClientStatuses, status)
	if i < 0 {
		i = len(ClientStatuses)
	}
	var n int64
	for _, v := range c.Pair[i] {
		n += v
	}
	return n
}

// ByServer returns the requests whose server cookie status is status.
func (c *Counts) ByServer(status byte) int64 {
	j := strings.IndexByte(ServerStatuses, status)
	if j < 0 {
		j = len(ServerStatuses)
	}
	var n int64
	for i := range c.Pair {
		n += c.Pair[i][j]
	}
	return n
}

func (c *Counts) add(r *Record) {
	c.Requests++
	if r.Status < 0 || r.Status >= 500 {
		c.Errors++
	}
	if r.Redispatched {
		c.Redispatched++
	}
	i := strings.IndexByte(ClientStatuses, r.ClientCookie())
	if i < 0 {
		i = len(ClientStatuses)
	}
	j := strings.IndexByte(ServerStatuses, r.ServerCookie())
	if j < 0 {
		j = len(ServerStatuses)
	}
	c.Pair[i][j]++
}

func (c *Counts) merge(o *Counts) {
	c.Requests += o.Requests
	c.Errors += o.Errors
	c.Redispatched += o.Redispatched
	for i := range c.Pair {
		for j := range c.Pair[i] {
			c.Pair[i][j] += o.Pair[i][j]
		}
	}
}

// Stats aggregates records: totals, per server, and over time.
type Stats struct {
	Total   Counts
	First   time.Time // earliest and latest request dates seen
	Last    time.Time
	servers map[Key]*Counts

	bucket  time.Duration     // current width, at least the asked one
	buckets map[int64]*Counts // by start, in units of bucket since the epoch
}

// NewStats returns empty Stats with timeline buckets of width bucket (0:
// no timeline).
func NewStats(bucket time.Duration) *Stats {
	return &Stats{servers: make(map[Key]*Counts), bucket: bucket, buckets: make(map[int64]*Counts)}
}

// Add counts one record. It copies the names it keeps.
func (s *Stats) Add(r *Record) {
	s.Total.add(r)
	s.server(r).add(r)
	if r.Time.IsZero() {
		return
	}
	if s.First.IsZero() || r.Time.Before(s.First) {
		s.First = r.Time
	}
	if r.Time.After(s.Last) {
		s.Last = r.Time
	}
	if s.bucket <= 0 {
		return
	}
	idx := r.Time.UnixNano() / int64(s.bucket)
	b := s.buckets[idx]
	if b == nil {
		if len(s.buckets) >= MaxBuckets {
			s.widen()
			idx = r.Time.UnixNano() / int64(s.bucket)
		}
		if b = s.buckets[idx]; b == nil {
			b = &Counts{}
			s.buckets[idx] = b
		}
	}
	b.add(r)
}

func (s *Stats) server(r *Record) *Counts {
	k := Key{r.Host, r.Frontend, r.Backend, r.Server}
	if c := s.servers[k]; c != nil {
		return c
	}
	if len(s.servers) >= MaxKeys {
		k = Key{Other, Other, Other, Other}
		if c := s.servers[k]; c != nil {
			return c
		}
	} else {
		k = Key{strings.Clone(k.Node), strings.Clone(k.Frontend), strings.Clone(k.Backend), strings.Clone(k.Server)}
	}
	c := &Counts{}
	s.servers[k] = c
	return c
}

// widen doubles the bucket width and merges the buckets pairwise.
func (s *Stats) widen() {
	s.bucket *= 2
	merged := make(map[int64]*Counts, len(s.buckets)/2+1)
	for idx, c := range s.buckets {
		n := floorDiv(idx, 2)
		if m := merged[n]; m != nil {
			m.merge(c)
		} else {
			merged[n] = c
		}
	}
	s.buckets = merged
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// ServerCounts is one server's counts.
type ServerCounts struct {
	Key
	Counts
}

// Servers returns the per-server counts sorted by frontend, backend and
// server.
func (s *Stats) Servers() []ServerCounts {
	out := make([]ServerCounts, 0, len(s.servers))
	for k, c := range s.servers {
		out = append(out, ServerCounts{k, *c})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Key, out[j].Key
		if a.Node != b.Node {
			return a.Node < b.Node
		}
		if a.Frontend != b.Frontend {
			return a.Frontend < b.Frontend
		}
		if a.Backend != b.Backend {
			return a.Backend < b.Backend
		}
		return a.Server < b.Server
	})
	return out
}

// Bucket is one step of the timeline.
type Bucket struct {
	Start time.Time
	Counts
}

// Timeline returns the buckets in time order and their width, which is
// wider than asked when the span needed more than MaxBuckets.
func (s *Stats) Timeline() ([]Bucket, time.Duration) {
	out := make([]Bucket, 0, len(s.buckets))
	for idx, c := range s.buckets {
		out = append(out, Bucket{time.Unix(0, idx*int64(s.bucket)), *c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, s.bucket
}
