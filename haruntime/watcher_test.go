package haruntime

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// flapSocket answers show info and show stat as HAProxy does, and show
// servers state with server1 up and down in turn, so every poll sees a
// change.
func flapSocket(t *testing.T) Addr {
	var n atomic.Int64
	return fakeSocket(t, func(c net.Conn) {
		b := make([]byte, 256)
		k, _ := c.Read(b)
		switch cmd := strings.TrimSpace(string(b[:k])); cmd {
		case "show info":
			c.Write([]byte(infoReply))
		case "show stat":
			c.Write([]byte(statReply))
		case "show servers state":
			r := serversReply
			if n.Add(1)%2 == 0 {
				r = strings.Replace(r, "server1 127.0.0.1 0 0", "server1 127.0.0.1 2 0", 1)
			}
			c.Write([]byte(r))
		}
	})
}

func TestWatcherMemoryIsBounded(t *testing.T) {
	var told atomic.Int64
	w := &Watcher{Client: NewClient(flapSocket(t)), Interval: 5 * time.Millisecond, MaxChanges: 10,
		OnChange: func(Change) { told.Add(1) }}
	if err := w.Watch(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	res := w.Stop(context.Background())
	if len(res.Changes) != 10 || res.Dropped == 0 {
		t.Fatalf("%d changes kept, %d dropped after %d polls; want 10 kept and the rest dropped", len(res.Changes), res.Dropped, res.Polls)
	}
	if n := told.Load(); n != int64(len(res.Changes)+res.Dropped) {
		t.Errorf("OnChange told of %d changes, the result counts %d", n, len(res.Changes)+res.Dropped)
	}
	outs := res.Outages()
	if len(outs) == 0 || outs[0].Server != "server1" {
		t.Fatalf("Outages = %+v", outs)
	}
	for i, o := range outs {
		if !o.Up.IsZero() && o.Up.Before(o.Down) {
			t.Errorf("outage %d ends before it starts: %+v", i, o)
		}
	}
	if m := res.CookieMap(); m["be_app"]["s2"] != "server2" {
		t.Errorf("CookieMap = %v", m)
	}
}

func TestWatcherRefusesAnUnusableSocket(t *testing.T) {
	garbage := fakeSocket(t, func(c net.Conn) { c.Read(make([]byte, 64)); c.Write([]byte("220 smtp ready\r\n")) })
	for _, addr := range []Addr{garbage, {Network: "unix", Address: "/nonexistent/h.sock"}} {
		w := &Watcher{Client: &Client{Addr: addr, Timeout: 200 * time.Millisecond}}
		err := w.Watch(context.Background())
		if !errors.Is(err, ErrGarbage) && !errors.Is(err, ErrUnreachable) {
			t.Errorf("Watch(%s) = %v, want ErrGarbage or ErrUnreachable", addr, err)
		}
	}
}

func TestResultQueries(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &Result{Changes: []Change{
		{At: t0, Backend: "b", Server: "s1", From: "up", To: "down"},
		{At: t0.Add(time.Second), Backend: "b", Server: "s2", From: "up", To: "maint"},
		{At: t0.Add(2 * time.Second), Backend: "b", Server: "s1", From: "down", To: "up"},
		{At: t0.Add(3 * time.Second), Backend: "b", Server: "s1", From: "up", To: "down"},
	}}
	if at, ok := r.DownAt("b", "s1"); !ok || !at.Equal(t0) {
		t.Errorf("DownAt(s1) = %v, %v", at, ok)
	}
	if _, ok := r.DownAt("b", "s3"); ok {
		t.Error("DownAt(s3) found")
	}
	outs := r.Outages()
	if len(outs) != 3 || outs[0].Server != "s1" || !outs[0].Up.Equal(t0.Add(2*time.Second)) ||
		outs[1].State != "maint" || !outs[1].Up.IsZero() || !outs[2].Up.IsZero() {
		t.Errorf("Outages = %+v", outs)
	}
}
