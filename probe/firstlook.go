package probe

import "net/http"

// FirstLook is what the first response to a session's first request
// showed: its Server header and the cookies it set. Those tell which load
// balancer answered (report.DetectLB), from a request the run sent anyway:
// no request of its own, so detection adds no load and goes where the
// run's requests go (--resolve, --source-ips, TLS settings, the mark).
type FirstLook struct {
	Server  string
	Cookies []*http.Cookie
}

// maxFirstLookCookies bounds the cookies kept: a name and a value shape
// are all detection reads.
const maxFirstLookCookies = 16

// noteFirstLook keeps resp's look if it is the first first response.
func (r *Runner) noteFirstLook(ev *Event, resp *http.Response, lines []string) {
	if ev.Seq != 0 || r.firstLook.Load() != nil {
		return
	}
	look := &FirstLook{Server: resp.Header.Get("Server")}
	for _, line := range lines[:min(len(lines), maxFirstLookCookies)] {
		if c, err := http.ParseSetCookie(line); err == nil {
			look.Cookies = append(look.Cookies, c)
		}
	}
	r.firstLook.CompareAndSwap(nil, look)
}

// FirstLook returns what the first response to a session's first request
// showed; false before any response.
func (r *Runner) FirstLook() (FirstLook, bool) {
	if p := r.firstLook.Load(); p != nil {
		return *p, true
	}
	return FirstLook{}, false
}
