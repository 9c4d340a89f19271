package probe

import "net/http"

// ServerHeader is the Server header of the first response that carried
// one, or "": nginx, Caddy and Apache name themselves there (HAProxy adds
// none), which tells a report whose words its hints should be in without
// sending a request of its own.
func (r *Runner) ServerHeader() string {
	if p := r.server.Load(); p != nil {
		return *p
	}
	return ""
}

// noteServer keeps h's Server header if none was kept yet.
func (r *Runner) noteServer(h http.Header) {
	if r.server.Load() != nil {
		return
	}
	if v := h.Get("Server"); v != "" {
		r.server.CompareAndSwap(nil, &v)
	}
}
