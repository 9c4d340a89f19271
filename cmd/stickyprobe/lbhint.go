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
			", or auto: tell it from the responses (the persistence cookie's name and value, the Server header)",
		Action: func(_ *cli.Context, v string) error { return checkLB(v) },
	}
}

func checkLB(v string) error {
	if v == lbAuto || slices.Contains(report.LBKinds, v) {
		return nil
	}
	return fmt.Errorf("--lb %q: want %s or %s", v, strings.Join(report.LBKinds, ", "), lbAuto)
}

// lbChooser says whose words a run's hints are in: the load balancer
// --lb names (choice), or the one the run's responses point at (auto):
// the persistence cookie's name and value shape, the Server header.
func lbChooser(choice string) func(report.LBEvidence) *report.LB {
	return func(ev report.LBEvidence) *report.LB {
		if choice != "" && choice != lbAuto {
			return &report.LB{Kind: choice, Why: "--lb " + choice}
		}
		lb := report.DetectLB(ev)
		return &lb
	}
}
