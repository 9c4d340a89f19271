//go:build linux

package probe

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stickyprobe/stickyprobe/scenarios"
)

// The fd tests lower RLIMIT_NOFILE, which no process can raise again past
// its hard limit: they run in a child process of the test binary.
const fdChildEnv = "STICKYPROBE_FD_CHILD"

// TestFDLimit: under `ulimit -n 64`, a plan of 200 requests in flight is
// refused before the run with the numbers; forced to run anyway, its
// requests fail with EMFILE, kind local (the probe's own), never counted
// as the target's errors.
func TestFDLimit(t *testing.T) {
	srv := newHangingServer(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFDLimitChild$", "-test.v")
	cmd.Env = append(os.Environ(), fdChildEnv+"="+srv)
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("child failed: %v", err)
	}
	for _, want := range []string{"refused: probe: not enough file descriptors: this plan holds up to 232",
		"may open 64", "ulimit -n 232", "local errors:", "other errors: 0"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q", want)
		}
	}
}

// newHangingServer answers every request after a while, so requests stay
// in flight and hold their descriptors.
func newHangingServer(t *testing.T) string {
	ready := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-ready:
		case <-time.After(300 * time.Millisecond):
		}
		w.Header().Set("X-Backend", "s1")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { close(ready); srv.Close() })
	return "http://" + ln.Addr().String() + "/"
}

func TestFDLimitChild(t *testing.T) {
	target := os.Getenv(fdChildEnv)
	if target == "" {
		t.Skip("run by TestFDLimit in a child process")
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: 64, Max: 64}); err != nil {
		t.Fatal(err)
	}
	spec := testSpec(t, target)
	spec.Sessions, spec.Requests, spec.Concurrency = 200, 1, 200
	spec.Conn = scenarios.ConnFresh
	r, err := NewRunner(spec)
	if err != nil {
		t.Fatal(err)
	}
	err = r.CheckSources()
	if !errors.Is(err, ErrFDLimit) {
		t.Fatalf("CheckSources = %v, want ErrFDLimit", err)
	}
	t.Logf("refused: %v", err)
	out := make(chan Event)
	go func() { _ = r.Run(context.Background(), out) }()
	local, other := 0, 0
	for ev := range out {
		switch {
		case ev.Error == ErrLocal && !ev.Failed():
			local++
		case ev.Error != "":
			other++
			t.Logf("error %s: %s", ev.Error, ev.Detail)
		}
	}
	t.Logf("local errors: %d", local)
	t.Logf("other errors: %d", other)
	if local == 0 {
		t.Error("no request failed with a local error under 64 descriptors")
	}
}
