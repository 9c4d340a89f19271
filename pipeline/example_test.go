package pipeline_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"github.com/stickyprobe/stickyprobe/pipeline"
	"github.com/stickyprobe/stickyprobe/scenarios"
)

// A one-backend "LB": every session stays on it, but so does the control
// group, so the run could not have seen broken persistence.
func ExampleRun() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Backend", "web1")
	})}
	go srv.Serve(ln)
	defer srv.Close()

	spec := scenarios.Default()
	spec.Sessions, spec.Requests, spec.Rate = 5, 3, 0
	u, _ := url.Parse("http://" + ln.Addr().String() + "/")
	spec.URLs = []*url.URL{u}
	res, err := pipeline.Run(context.Background(), spec, pipeline.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Report.Verdict, res.Report.Summary.Sticky, "of", res.Report.Summary.Sessions, "sticky")
	// Output: inconclusive 5 of 5 sticky
}
