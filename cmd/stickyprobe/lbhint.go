package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/report"
	"github.com/stickyprobe/stickyprobe/scenarios"
	"github.com/urfave/cli/v2"
)

// lbAuto is --lb's default: tell the load balancer from its responses.
const lbAuto = "auto"

// preflightTimeout bounds the one request that reads the Server header.
const preflightTimeout = 3 * time.Second

func lbFlag() cli.Flag {
	return &cli.StringFlag{Name: "lb", Value: lbAuto, Category: catOutput,
		Usage: "speak this load balancer's language in the hints: " + strings.Join(report.LBKinds, ", ") +
			", or auto: tell it from the persistence cookie's name and value and the Server header, read with one more " +
			"request after the run (not counted)",
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
// --lb names (choice), or the one the responses point at (auto), judged
// by the persistence cookie (its name, once the run knows it) and the
// Server header of one more request. An interrupted run sends none.
func lbChooser(spec scenarios.Spec, choice string) func(context.Context, string) *report.LB {
	return func(ctx context.Context, tokenName string) *report.LB {
		if choice != "" && choice != lbAuto {
			return &report.LB{Kind: choice, Why: "--lb " + choice}
		}
		ev := report.LBEvidence{TokenName: tokenName}
		var failed error
		if ctx.Err() == nil && len(spec.URLs) > 0 {
			ev.Server, ev.Cookies, failed = preflight(ctx, spec)
			ev.Response = failed == nil
		}
		lb := report.DetectLB(ev)
		if failed != nil {
			lb.Why += " (the request for the Server header failed: " + failed.Error() + ")"
		}
		return &lb
	}
}

// preflight sends one cookieless GET to the first target, connecting
// where --resolve says, with the run's headers, and returns the Server
// header and the cookies the response set.
func preflight(ctx context.Context, spec scenarios.Spec) (string, []*http.Cookie, error) {
	ctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	dialer := &net.Dialer{Timeout: preflightTimeout}
	tr := &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: spec.Insecure}, //nolint:gosec // only with --insecure
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, resolved(spec.Resolve, addr))
		},
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, spec.URLs[0].String(), nil)
	if err != nil {
		return "", nil, err
	}
	for _, h := range spec.Headers {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.Header.Get("Server"), resp.Cookies(), nil
}

// resolved is addr ("host:port") after --resolve.
func resolved(list []scenarios.Resolve, addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	for _, r := range list {
		if strings.EqualFold(r.Host, host) && strconv.Itoa(r.Port) == port {
			return net.JoinHostPort(r.Addr, port)
		}
	}
	return addr
}
