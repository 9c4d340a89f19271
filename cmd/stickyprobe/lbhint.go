package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stickyprobe/stickyprobe/report"
	"github.com/urfave/cli/v2"
)

// lbAuto is --lb's default: tell the load balancer from its responses.
const lbAuto = "auto"

func lbFlag() cli.Flag {
	return &cli.StringFlag{Name: "lb", Value: lbAuto, Category: catOutput,
		Usage: "speak this load balancer's language in the hints: " + strings.Join(report.LBKinds, ", ") +
			", or auto: tell it from the persistence cookie's name and value and the Server header of the run's own " +
			"first response (no extra request)",
		Action: func(_ *cli.Context, v string) error { return checkLB(v) },
	}
}

func checkLB(v string) error {
	if v == lbAuto || slices.Contains(report.LBKinds, v) {
		return nil
	}
	return fmt.Errorf("--lb %q: want %s or %s", v, strings.Join(report.LBKinds, ", "), lbAuto)
}
