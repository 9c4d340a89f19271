package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestMarkNamesEachRequest(t *testing.T) {
	t.Parallel()
	for _, run := range []string{"r42", ""} {
		var mu sync.Mutex
		seen := map[string]int{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[r.Header.Get(MarkHeader)]++
			mu.Unlock()
			w.Header().Set("X-Backend", "b1")
		}))
		defer srv.Close()
		spec := testSpec(t, srv.URL+"/")
		r, err := NewRunner(spec, WithMark(run))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out := make(chan Event)
		errc := make(chan error, 1)
		go func() { errc <- r.Run(ctx, out) }()
		var events []Event
		for ev := range out {
			events = append(events, ev)
		}
		cancel()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if run == "" {
			if len(seen) != 1 || seen[""] != len(events) {
				t.Errorf("without a mark the server saw %v", seen)
			}
		} else {
			for _, ev := range events {
				if v := MarkValue(run, ev.Session, ev.Seq); seen[v] != 1 {
					t.Errorf("mark %q seen %d times (all: %v)", v, seen[v], seen)
				}
			}
		}
		mu.Unlock()
	}
}
