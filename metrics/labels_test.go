package metrics

import (
	"slices"
	"testing"
)

func TestLabelCapHolds500Backends(t *testing.T) {
	m := New(Options{})
	// 500 sessions, each answered by its own backend: a backend that names
	// itself with a pod or request id.
	var sessions []session
	for i := range 500 {
		b := backendName(i)
		sessions = append(sessions, session{id: i, frontend: feA, sticky: true, backends: []string{b, b}})
	}
	runCycle(t, m, cookieOpts, sessions...)

	values := labelValues(t, m, "stickyprobe_backend_requests_total", "backend")
	if len(values) != DefaultMaxBackends+1 || !slices.Contains(values, Other) {
		t.Fatalf("%d backend label values (%v...), want %d named plus %q", len(values), values[:3], DefaultMaxBackends, Other)
	}
	if got, want := value(t, m, "stickyprobe_backend_requests_total", "backend="+Other), float64(2*(500-DefaultMaxBackends)); got != want {
		t.Errorf("other = %v requests, want %v", got, want)
	}
	if got := value(t, m, "stickyprobe_backend_requests_total", "backend="+backendName(0)); got != 2 {
		t.Errorf("first backend = %v requests, want 2", got)
	}
	if got := value(t, m, "stickyprobe_sessions_total", "result=sticky"); got != 500 {
		t.Errorf("sticky sessions %v, want 500: the cap must not change the verdict", got)
	}
	if got := value(t, m, "stickyprobe_backends_seen"); got != 500 {
		t.Errorf("backends seen %v, want 500: the gauge counts real backends, not label values", got)
	}
	// The series count of the whole registry is bounded too.
	series := 0
	for _, mf := range gather(t, m) {
		series += len(mf.GetMetric())
	}
	if series > 100 {
		t.Errorf("%d series after 500 backends, want a bounded handful", series)
	}
}

func TestLabelCapStaysBoundedOverManyCycles(t *testing.T) {
	m := New(Options{MaxBackends: 8, EvictAfter: 2})
	for cycle := range 40 {
		var sessions []session
		for i := range 50 { // 50 never-seen-before backends every cycle
			b := backendName(cycle*50 + i)
			sessions = append(sessions, session{id: i, frontend: feA, backends: []string{b}})
		}
		runCycle(t, m, cookieOpts, sessions...)
		if n := len(labelValues(t, m, "stickyprobe_backend_requests_total", "backend")); n > 9 {
			t.Fatalf("cycle %d: %d backend label values, want at most 9", cycle, n)
		}
		if n := len(m.backCap.seen); n > 8 {
			t.Fatalf("cycle %d: the cap remembers %d names, want at most 8", cycle, n)
		}
	}
}

func TestLabelCapEvictsUnseenBackends(t *testing.T) {
	m := New(Options{MaxBackends: 2, EvictAfter: 2})
	cycle := func(backends ...string) {
		var sessions []session
		for i, b := range backends {
			sessions = append(sessions, session{id: i, frontend: feA, backends: []string{b}})
		}
		runCycle(t, m, cookieOpts, sessions...)
	}
	cycle("old-1", "old-2", "new-1") // cap full: new-1 is other
	if got := labelValues(t, m, "stickyprobe_backend_requests_total", "backend"); !slices.Equal(got, []string{"old-1", "old-2", Other}) {
		t.Fatalf("cycle 1: backends %v", got)
	}
	cycle("old-1", "new-1") // old-2 unseen for one cycle: kept
	if got := labelValues(t, m, "stickyprobe_backend_requests_total", "backend"); !slices.Contains(got, "old-2") {
		t.Fatalf("old-2 evicted after one idle cycle, want after two: %v", got)
	}
	cycle("old-1", "new-1") // unseen for two: evicted at the end of this cycle
	if got := labelValues(t, m, "stickyprobe_backend_requests_total", "backend"); slices.Contains(got, "old-2") {
		t.Fatalf("old-2 still exported after two idle cycles: %v", got)
	}
	cycle("old-1", "new-1") // new-1 takes the freed slot
	got := labelValues(t, m, "stickyprobe_backend_requests_total", "backend")
	if !slices.Equal(got, []string{"new-1", "old-1", Other}) {
		t.Fatalf("after eviction: backends %v, want new-1 in old-2's slot", got)
	}
	if v := value(t, m, "stickyprobe_backend_requests_total", "backend=new-1"); v != 1 {
		t.Errorf("new-1 = %v, want 1 (counted under other before it had a slot)", v)
	}
}

func TestLabelCapUnit(t *testing.T) {
	c := newLabelCap(2, 0)
	for _, tt := range []struct{ in, want string }{{"a", "a"}, {"b", "b"}, {"c", Other}, {"a", "a"}} {
		if got := c.label(tt.in); got != tt.want {
			t.Errorf("label(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for range 100 {
		if gone := c.endCycle(); gone != nil {
			t.Fatalf("evictAfter 0 evicted %v", gone)
		}
	}
}
