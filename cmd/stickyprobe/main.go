// Command stickyprobe proves from the outside whether a load balancer keeps
// each user on the same backend server.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
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
		os.Exit(exitInterrupted)
	}()
	return ctx, func() { signal.Stop(sig); cancel() }
}
