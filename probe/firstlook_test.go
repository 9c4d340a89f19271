package probe

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The first response to a session's first request is kept for LB
// detection: its Server header and the cookies it set; later ones are not.
func TestFirstLookIsTheFirstResponse(t *testing.T) {
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", "s1")
		if r.Header.Get("Cookie") == "" {
			n++
			w.Header().Set("Server", "nginx/1.22.1")
			http.SetCookie(w, &http.Cookie{Name: "ROUTEID", Value: ".s1", Path: "/"})
		} else {
			w.Header().Set("Server", "later")
		}
	}))
	t.Cleanup(srv.Close)
	spec := testSpec(t, srv.URL)
	spec.Sessions, spec.Requests, spec.Concurrency = 1, 3, 1
	_, r, err := runAll(t, spec)
	if err != nil {
		t.Fatal(err)
	}
	look, ok := r.FirstLook()
	if !ok || look.Server != "nginx/1.22.1" || len(look.Cookies) != 1 || look.Cookies[0].Name != "ROUTEID" || look.Cookies[0].Value != ".s1" {
		t.Fatalf("FirstLook = %+v, %v; want the first response's Server and ROUTEID=.s1", look, ok)
	}
	if _, ok := (&Runner{}).FirstLook(); ok {
		t.Error("a runner with no response has a first look")
	}
}
