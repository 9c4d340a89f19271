package main

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/urfave/cli/v2"
)

func markFlag() cli.Flag {
	return &cli.BoolFlag{Name: "no-mark", Category: catConn,
		Usage: "do not send the " + probe.MarkHeader + " header (RUN/SESSION/SEQ) that lets `stickyprobe logs --events` find each request in HAProxy's log " +
			"(`capture request header " + probe.MarkHeader + " len 96` in the frontend puts it there)"}
}

// markRun is the run id the requests' mark carries, "" with --no-mark:
// random, so two runs' marks in one log tell apart.
func markRun(c *cli.Context) string {
	if c.Bool("no-mark") {
		return ""
	}
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
