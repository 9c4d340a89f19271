package metrics

import "sort"

// labelCap hands out label values for an open set of names within a fixed
// budget. Every distinct label value is a time series the monitor keeps
// and Prometheus stores for weeks, and backend names come from the target:
// a pod name, an instance id, in the worst case a request id. The first max
// names seen get their own value; the rest share Other.
//
// With evictAfter > 0, a name unseen for that many cycles gives its slot
// back, so backends replaced by rolling deploys do not end up as Other
// forever.
type labelCap struct {
	max        int
	evictAfter int // cycles; 0 = never
	cycle      int
	seen       map[string]int // label value → last cycle it was seen
}

func newLabelCap(max, evictAfter int) *labelCap {
	return &labelCap{max: max, evictAfter: evictAfter, seen: make(map[string]int, max)}
}

// label returns name if it has (or gets) a slot, else Other.
func (c *labelCap) label(name string) string {
	if _, ok := c.seen[name]; ok {
		c.seen[name] = c.cycle
		return name
	}
	if len(c.seen) >= c.max {
		return Other
	}
	c.seen[name] = c.cycle
	return name
}

// endCycle closes a cycle and returns the names it evicts, sorted.
func (c *labelCap) endCycle() []string {
	c.cycle++
	if c.evictAfter <= 0 {
		return nil
	}
	var gone []string
	for name, last := range c.seen {
		if c.cycle-last > c.evictAfter {
			gone = append(gone, name)
			delete(c.seen, name)
		}
	}
	sort.Strings(gone)
	return gone
}
