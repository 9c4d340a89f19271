// Command stickyprobe proves from the outside whether a load balancer keeps
// each user on the same backend server.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/stickyprobe/stickyprobe/internal/atomicfile"
)

func main() {
	// A closed stdout pipe (`| head -1`) must not kill the process before
	// it writes its other outputs: with SIGPIPE notified, a write returns
	// EPIPE instead (see pipeline.StdoutGuard). Notify, not Ignore: an
	// ignored signal would stay ignored in an exec phase's commands.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := interruptContext()
	defer stop()
	os.Exit(run(ctx, os.Args, os.Stdout, os.Stderr))
}

// interruptContext is canceled by the first Ctrl-C or SIGTERM, so the run
// stops gracefully and writes its partial report; a second signal exits at
// once.
func interruptContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "\nstopping cleanly: what is in flight is cut and what was asked for is written (press Ctrl-C again to quit at once)")
		cancel()
		<-sig
		forcedExit(os.Stderr)
	}()
	return ctx, func() { signal.Stop(sig); cancel() }
}

// forcedExit is the second signal: exit at once, saying which outputs are
// not written, and leave no temp file behind.
func forcedExit(stderr io.Writer) {
	if labels := atomicfile.AbortAll(); len(labels) > 0 {
		fmt.Fprintf(stderr, "stickyprobe: forced exit: not written: %s\n", strings.Join(labels, ", "))
	}
	os.Exit(exitInterrupted)
}
