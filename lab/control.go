package lab

import (
	"context"
	"fmt"
	"net/http"
	"strings"
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
// ends when the restart has. POST /backends/NAME/stop and .../start kill
// and bring back one of backends, for failover tests. It is for
// `stickyprobe lab --serve`: serve it on 127.0.0.1 only, since anyone who
// reaches it can bounce the lab.
func ControlHandler(lb Controller, backends ...*Backend) http.Handler {
	mux := http.NewServeMux()
	actions := map[string]func(context.Context) error{
		"/restart": lb.Restart,
		"/reload":  lb.Reload,
	}
	for _, b := range backends {
		actions["/backends/"+b.Name()+"/stop"] = func(context.Context) error { return b.Stop() }
		actions["/backends/"+b.Name()+"/start"] = func(context.Context) error { return b.Start() }
	}
	for path, action := range actions {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				w.Header().Set("Allow", http.MethodPost)
				http.Error(w, "use POST", http.StatusMethodNotAllowed)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), controlTimeout)
			defer cancel()
			start := time.Now()
			what := strings.ReplaceAll(path[1:], "/", " ")
			if err := action(ctx); err != nil {
				http.Error(w, what+" failed: "+err.Error(), http.StatusInternalServerError)
				return
			}
			fmt.Fprintf(w, "%s done in %s\n", what, time.Since(start).Round(time.Millisecond))
		})
	}
	return mux
}
