package hacheck

import (
	"strconv"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/hacfg"
)

// backendView is what the checks read of one backend or listen section.
type backendView struct {
	cfg     *hacfg.Config
	sec     *hacfg.Section
	nodes   int // how many configs (LB nodes) were given
	mode    string
	balance hacfg.Line // zero Line: HAProxy's default, roundrobin
	cookie  *cookieSpec
	servers []server
	routes  []route
	sticks  []hacfg.Line // stick on/match/store-* lines
}

type server struct {
	line   hacfg.Line
	name   string
	cookie string // its `cookie` value, "" none
	id     string // its `id`, "" none
	backup bool
}

func newBackendView(cfg *hacfg.Config, sec *hacfg.Section, nodes int) *backendView {
	b := &backendView{cfg: cfg, sec: sec, nodes: nodes}
	b.mode, _ = sec.Mode()
	b.balance, _ = sec.Lookup("balance")
	if l, ok := sec.Lookup("cookie"); ok && len(l.Args) >= 2 {
		b.cookie = parseCookie(l)
	}
	for _, l := range sec.All("server") {
		b.servers = append(b.servers, parseServer(l))
	}
	for _, l := range sec.Lines {
		if l.Keyword() == "stick" && len(l.Args) >= 2 {
			b.sticks = append(b.sticks, l)
		}
	}
	b.routes = routesTo(cfg, sec)
	return b
}

func parseServer(l hacfg.Line) server {
	s := server{line: l}
	if len(l.Args) > 1 {
		s.name = l.Args[1]
	}
	for i := 3; i < len(l.Args); i++ {
		switch l.Args[i] {
		case "cookie":
			if i+1 < len(l.Args) {
				s.cookie, i = l.Args[i+1], i+1
			}
		case "id":
			if i+1 < len(l.Args) {
				s.id, i = l.Args[i+1], i+1
			}
		case "backup":
			s.backup = true
		}
	}
	return s
}

// balanceAlgo is the first word of the balance line: "roundrobin",
// "source", "hdr(X-User)" gives "hdr".
func (b *backendView) balanceAlgo() string {
	if len(b.balance.Args) < 2 {
		return "roundrobin"
	}
	algo, _, _ := strings.Cut(b.balance.Args[1], "(")
	return algo
}

// where is the line a backend-wide finding points at.
func (b *backendView) where() hacfg.Line {
	if b.balance.Num != 0 && b.balance.File == b.sec.Header.File && b.balance.Num > b.sec.Header.Num {
		return b.balance
	}
	return b.sec.Header
}

func (b *backendView) finding(id string, sev Severity, at hacfg.Line) Finding {
	return Finding{ID: id, Severity: sev, File: at.File, Line: at.Num,
		Section: b.sec.Kind + " " + b.sec.Name, Backend: b.sec.Name, Source: SourceOurs}
}

// cookieSpec is a parsed `cookie` line.
type cookieSpec struct {
	line                                  hacfg.Line
	name, mode                            string // mode: insert, rewrite, prefix ("" none given)
	indirect, nocache, postonly, preserve bool
	httponly, secure, dynamic             bool
	domains, attrs                        []string
	maxidle, maxlife                      time.Duration
	maxidleAt, maxlifeAt                  bool
}

func parseCookie(l hacfg.Line) *cookieSpec {
	c := &cookieSpec{line: l, name: l.Args[1]}
	flags := map[string]*bool{"indirect": &c.indirect, "nocache": &c.nocache, "postonly": &c.postonly,
		"preserve": &c.preserve, "httponly": &c.httponly, "secure": &c.secure, "dynamic": &c.dynamic}
	a := l.Args
	for i := 2; i < len(a); i++ {
		switch w := a[i]; {
		case w == "insert" || w == "rewrite" || w == "prefix":
			c.mode = w
		case flags[w] != nil:
			*flags[w] = true
		case (w == "domain" || w == "attr") && i+1 < len(a):
			if w == "domain" {
				c.domains = append(c.domains, a[i+1])
			} else {
				c.attrs = append(c.attrs, a[i+1])
			}
			i++
		case (w == "maxidle" || w == "maxlife") && i+1 < len(a):
			d, ok := parseTime(a[i+1])
			if w == "maxidle" {
				c.maxidle, c.maxidleAt = d, ok
			} else {
				c.maxlife, c.maxlifeAt = d, ok
			}
			i++
		}
	}
	return c
}

// parseTime reads HAProxy's time format: a number with an optional unit
// (us, ms, s, m, h, d; milliseconds when none).
func parseTime(s string) (time.Duration, bool) {
	units := []struct {
		suffix string
		d      time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	unit := time.Millisecond
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, unit = strings.TrimSuffix(s, u.suffix), u.d
			break
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

// parseSize reads a table size: a number with k, m or g (powers of 1024).
func parseSize(s string) (int64, bool) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1<<10, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "m"):
		mult, s = 1<<20, strings.TrimSuffix(s, "m")
	case strings.HasSuffix(s, "g"):
		mult, s = 1<<30, strings.TrimSuffix(s, "g")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n * mult, true
}
