package haruntime

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Info is the part of `show info` a probe cares about: which process
// answered (a restart shows as a new Pid and a small UptimeS) and whether
// it is on its way out after a reload (Stopping).
type Info struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Pid      int    `json:"pid"`
	UptimeS  int64  `json:"uptime_s"`
	Node     string `json:"node,omitempty"`
	Stopping bool   `json:"stopping,omitempty"`
}

// ParseInfo reads a `show info` reply ("Key: value" lines). A reply
// without Name and Pid is ErrGarbage.
func ParseInfo(reply string) (Info, error) {
	var in Info
	var seenPid bool
	for _, line := range strings.Split(reply, "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		var err error
		switch key {
		case "Name":
			in.Name = val
		case "Version":
			in.Version = val
		case "Pid":
			in.Pid, err = strconv.Atoi(val)
			seenPid = err == nil
		case "Uptime_sec":
			in.UptimeS, err = strconv.ParseInt(val, 10, 64)
		case "node":
			in.Node = val
		case "Stopping":
			in.Stopping = val == "1"
		}
		if err != nil {
			return Info{}, fmt.Errorf("%w: show info: %s: %q is not a number", ErrGarbage, key, val)
		}
	}
	if in.Name == "" || !seenPid {
		return Info{}, fmt.Errorf("%w: show info: no Name and Pid lines", ErrGarbage)
	}
	return in, nil
}

// Info asks `show info`.
func (c *Client) Info(ctx context.Context) (Info, error) {
	reply, err := c.Query(ctx, "show info")
	if err != nil {
		return Info{}, err
	}
	in, err := ParseInfo(reply)
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", c.Addr, err)
	}
	return in, nil
}
