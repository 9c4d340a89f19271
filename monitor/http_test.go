package monitor

import (
	"testing"
	"time"
)

func TestLivenessStalls(t *testing.T) {
	l := newLiveness(time.Minute)
	now := time.Now()
	if err := l.check(now.Add(30 * time.Second)); err != nil {
		t.Errorf("30s after start: %v, want alive", err)
	}
	if err := l.check(now.Add(2 * time.Minute)); err == nil {
		t.Error("2m without a cycle: alive, want stalled")
	}
	l.beat(now.Add(2 * time.Minute))
	if err := l.check(now.Add(2*time.Minute + time.Second)); err != nil {
		t.Errorf("just after a cycle: %v", err)
	}
}
