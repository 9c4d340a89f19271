package lab

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// controlTimeout bounds one restart or reload requested over HTTP.
const controlTimeout = 30 * time.Second

// Controller is a load balancer that can be restarted and reloaded.
type Controller interface {
	Restart(ctx context.Context) error
	Reload(ctx context.Context) error
}

// ControlHandler lets another process restart or reload a lab load
// balancer: POST /restart and POST /reload answer 200 once it proxies
// again (or 500 with the error), so a scenario's exec phase such as
//
//	curl -fsS -X POST http://127.0.0.1:PORT/restart
//
// ends when the restart has. It is for `stickyprobe lab --serve`: serve it
// on 127.0.0.1 only, since anyone who reaches it can bounce the lab.
func ControlHandler(lb Controller) http.Handler {
	mux := http.NewServeMux()
	for path, action := range map[string]func(context.Context) error{
		"/restart": lb.Restart,
		"/reload":  lb.Reload,
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				w.Header().Set("Allow", http.MethodPost)
				http.Error(w, "use POST", http.StatusMethodNotAllowed)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), controlTimeout)
			defer cancel()
			start := time.Now()
			if err := action(ctx); err != nil {
				http.Error(w, path[1:]+" failed: "+err.Error(), http.StatusInternalServerError)
				return
			}
			fmt.Fprintf(w, "%s done in %s\n", path[1:], time.Since(start).Round(time.Millisecond))
		})
	}
	return mux
}
