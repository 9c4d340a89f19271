package main

import (
	"github.com/stickyprobe/stickyprobe/probe"
	"github.com/urfave/cli/v2"
)

// browserFlags say how the simulated users' client behaves: whose cookie
// rules its jar follows and whether it follows redirects. They are the
// client's, not the scenario's: they travel with the command's context
// (probe.WithBrowser) to every runner the command starts, so a scenario
// file or a saved state is never changed by them.
func browserFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "jar", Value: string(probe.JarBrowser), Category: catDetect,
			Usage: "cookie rules of each session's jar: browser (what current Chrome and Firefox keep: SameSite=None needs Secure, " +
				"__Secure-/__Host- prefixes, 4096 bytes per cookie, 180 cookies per domain, Secure only over https or on localhost) " +
				"or rfc6265 (what API clients keep, as net/http/cookiejar)",
			Action: func(c *cli.Context, v string) error {
				mode, err := probe.ParseJarMode(v)
				if err != nil {
					return err
				}
				b := probe.BrowserFrom(c.Context)
				b.Jar = mode
				c.Context = probe.WithBrowser(c.Context, b)
				return nil
			}},
		&cli.BoolFlag{Name: "follow-redirects", Category: catConn,
			Usage: "follow 3xx answers as a browser does, each hop with the session's jar (up to 10); the final response names the backend. " +
				"Without it a redirect is judged as it is, and the report says where redirects pointed",
			Action: func(c *cli.Context, v bool) error {
				b := probe.BrowserFrom(c.Context)
				b.FollowRedirects = v
				c.Context = probe.WithBrowser(c.Context, b)
				return nil
			}},
	}
}
