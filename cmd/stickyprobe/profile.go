package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/stickyprobe/stickyprobe/internal/atomicfile"
	"github.com/urfave/cli/v2"
)

// profileFlags are hidden: they are for the people who measure the probe
// (bench/README.md), not for the people who use it.
func profileFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile of the run to `FILE`"},
		&cli.StringFlag{Name: "memprofile", Hidden: true, Usage: "write a heap profile at the end of the run to `FILE`"},
	}
}

// startProfiles starts the CPU profile if asked and returns the function
// that stops it and writes the heap profile.
func startProfiles(c *cli.Context) (stop func() error, err error) {
	var cpu *os.File
	if path := c.String("cpuprofile"); path != "" {
		if cpu, err = os.Create(path); err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	mem := c.String("memprofile")
	return func() error {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				return fmt.Errorf("--cpuprofile: %w", err)
			}
		}
		if mem == "" {
			return nil
		}
		f, err := atomicfile.Create(mem, "--memprofile "+mem, 0o644)
		if err != nil {
			return fmt.Errorf("--memprofile: %w", err)
		}
		runtime.GC()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			f.Abort()
			return fmt.Errorf("--memprofile: %w", err)
		}
		return f.Commit()
	}, nil
}
