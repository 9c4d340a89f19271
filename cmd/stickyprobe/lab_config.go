package main

import (
	"net/url"
	"strings"

	"github.com/stickyprobe/stickyprobe/hacheck"
)

// labNodeSeparator joins the configs of a lab row's two nodes in the
// text probeLabCase returns.
const labNodeSeparator = "\n# --- the second node ---\n"

// labConfigLine is the line `check-config` points at first in a lab
// row's HAProxy config(s), shown next to the probe's verdict; "" for
// other load balancers.
func labConfigLine(kind, cfgText string) string {
	if kind != "haproxy" {
		return ""
	}
	u := &url.URL{Scheme: "http", Host: labHost, Path: "/"}
	return hacheck.Pointer(strings.Split(cfgText, labNodeSeparator), u)
}
