package probe

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleEvent() Event {
	return Event{
		Session:   7,
		Seq:       2,
		Frontend:  "http://app.test:8080/",
		Local:     "127.0.0.1:50412",
		Start:     time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC),
		Latency:   1500 * time.Microsecond,
		Status:    200,
		Backend:   "s2",
		TokenName: "SERVERID",
		TokenHeld: true,
		TokenSent: "s2",
		Reused:    true,
	}
}

func TestEventJSON(t *testing.T) {
	ev := sampleEvent()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"session":7`, `"seq":2`, `"latency_ns":1500000`, `"backend":"s2"`, `"token_sent":"s2"`, `"reused":true`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	for _, absent := range []string{"control", "error", "detail", "token_set", "token_refused", "token_deleted"} {
		if strings.Contains(string(b), `"`+absent+`"`) {
			t.Errorf("JSON %s has zero field %q; want it omitted", b, absent)
		}
	}
	var got Event
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ev) {
		t.Errorf("round trip: got %+v, want %+v", got, ev)
	}
}

func TestEventFailed(t *testing.T) {
	tests := []struct {
		err  ErrorKind
		want bool
	}{
		{"", false},
		{ErrCanceled, false},
		{ErrHTTP5xx, true},
		{ErrTimeout, true},
		{ErrRefused, true},
		{ErrOther, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.err), func(t *testing.T) {
			ev := Event{Error: tt.err}
			if got := ev.Failed(); got != tt.want {
				t.Errorf("Event{Error: %q}.Failed() = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
