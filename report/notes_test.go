package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stickyprobe/stickyprobe/probe"
)

// TestNotesErrorReasons: protocol errors carry their reason into the
// report, the h2c case with its hint, and the probe's own errors are
// counted apart from the target's.
func TestNotesErrorReasons(t *testing.T) {
	h2c := probe.Event{Error: probe.ErrProtocol, Detail: "http2: failed reading the frame payload: unexpected EOF, note that the frame header looked like an HTTP/1.1 header"}
	chunk := probe.Event{Error: probe.ErrProtocol, Detail: "reading body: malformed chunked encoding"}
	local := probe.Event{Error: probe.ErrLocal, Detail: "dial tcp 127.0.0.1:80: socket: too many open files"}
	r := feed(NewSummary(testOptions()),
		script{id: 0, steps: []probe.Event{landed("s1"), h2c, kept("s1"), local}},
		script{id: 1, steps: []probe.Event{landed("s2"), chunk, kept("s2")}},
	).Close(testRun())
	if r.Notes == nil {
		t.Fatal("no notes")
	}
	if got := r.Notes.ErrorReasons["protocol: "+probe.ReasonH2cOverH1]; got != 1 {
		t.Errorf("h2c reason counted %d, notes %+v", got, r.Notes)
	}
	if got := r.Notes.ErrorReasons["protocol: "+probe.ReasonChunked]; got != 1 {
		t.Errorf("chunk reason counted %d", got)
	}
	if got := r.Notes.LocalErrors[probe.ErrorReason(probe.ErrLocal, local.Detail)]; got != 1 || !strings.HasPrefix(probe.ErrorReason(probe.ErrLocal, local.Detail), "EMFILE") {
		t.Errorf("local errors %v", r.Notes.LocalErrors)
	}
	if r.Errors[probe.ErrLocal] != 0 || r.Summary.Errors != 2 {
		t.Errorf("errors %v (%d): a local error counts against the target", r.Errors, r.Summary.Errors)
	}
	var b bytes.Buffer
	if err := Table(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"error reasons: protocol: HTTP/2 spoken to an HTTP/1.1 server", "drop --http2", "the probe's own errors, not counted against the target: 1 (EMFILE"} {
		if !strings.Contains(strings.Join(strings.Fields(b.String()), " "), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

// TestNotesAllLocal: a run whose every request failed on the probe's own
// machine is an error of the probe, said so, not a verdict on the target.
func TestNotesAllLocal(t *testing.T) {
	local := probe.Event{Error: probe.ErrLocal, Detail: "dial tcp: socket: too many open files"}
	r := feed(NewSummary(testOptions()), script{id: 0, steps: []probe.Event{local, local}}).Close(testRun())
	if r.Verdict != Error || len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], "probe's own machine") {
		t.Errorf("verdict %s %q", r.Verdict, r.Reasons)
	}
}

// TestNotesRedirects: responses that were redirects are reported with
// where they pointed; when they are most of the run, a reason says so.
func TestNotesRedirects(t *testing.T) {
	redirect := probe.Event{Status: 302, Location: "https://shop.example/login"}
	r := feed(NewSummary(testOptions()), script{id: 0, steps: []probe.Event{redirect, redirect, redirect}}).Close(testRun())
	if r.Notes == nil || r.Notes.Redirects != 3 || r.Notes.RedirectTo["https://shop.example/login"] != 3 {
		t.Fatalf("notes %+v", r.Notes)
	}
	if !strings.Contains(strings.Join(r.Reasons, "|"), "3 of 3 responses were redirects (to https://shop.example/login ×3)") {
		t.Errorf("reasons %q", r.Reasons)
	}
	if !strings.Contains(strings.Join(r.Notes.Hints, " "), "--follow-redirects") {
		t.Errorf("hints %q", r.Notes.Hints)
	}
}

// TestRefusalHints: a browser-only refusal adds what to change to the
// token-refused hint.
func TestRefusalHints(t *testing.T) {
	refused := func(b string) probe.Event {
		return withEv(landed(b), func(e *probe.Event) { e.TokenRefused = probe.RefusedSameSiteNone })
	}
	r := feed(NewSummary(testOptions()), script{id: 0, steps: []probe.Event{refused("s1"), refused("s2")}}).Close(testRun())
	if r.Causes[CauseTokenRefused] != 1 {
		t.Fatalf("causes %v", r.Causes)
	}
	h := r.Hints[CauseTokenRefused]
	if strings.Contains(h, "domain") || !strings.Contains(h, "samesite-none-insecure: SameSite=None without Secure") {
		t.Errorf("hint %q: want the SameSite=None words, not the domain ones", h)
	}
	// With an RFC 6265 refusal too, the generic words stay.
	domain := withEv(landed("s3"), func(e *probe.Event) { e.TokenRefused = probe.RefusedDomain })
	r = feed(NewSummary(testOptions()), script{id: 0, steps: []probe.Event{refused("s1"), refused("s2")}},
		script{id: 1, steps: []probe.Event{domain, withEv(landed("s1"), func(e *probe.Event) { e.TokenRefused = probe.RefusedDomain })}}).Close(testRun())
	if h := r.Hints[CauseTokenRefused]; !strings.HasPrefix(h, CauseTokenRefused.Hint()) || !strings.Contains(h, "samesite-none-insecure:") {
		t.Errorf("mixed refusals: hint %q", h)
	}
}

// TestNotesSecureLoopback: a Secure token over http to loopback, which
// the jar keeps as a browser would, gets the hint that a real host name
// is needed to see the problem.
func TestNotesSecureLoopback(t *testing.T) {
	ev := withEv(landed("s1"), func(e *probe.Event) { e.TokenSecureLoopback = true })
	r := feed(NewSummary(testOptions()), script{id: 0, steps: []probe.Event{ev, kept("s1")}}).Close(testRun())
	if r.Notes == nil || r.Notes.SecureLoopback != 1 || !strings.Contains(strings.Join(r.Notes.Hints, " "), "real host name") {
		t.Errorf("notes %+v", r.Notes)
	}
}

func withEv(ev probe.Event, f func(*probe.Event)) probe.Event { f(&ev); return ev }

// TestNotesRendered: the table and the Markdown both carry the notes, the
// server's words escaped in Markdown.
func TestNotesRendered(t *testing.T) {
	redirect := probe.Event{Status: 302, Location: "https://shop.example/<b>*login*</b>"}
	chunk := probe.Event{Error: probe.ErrProtocol, Detail: "reading body: malformed chunked encoding"}
	r := feed(NewSummary(testOptions()), script{id: 0, steps: []probe.Event{redirect, chunk, redirect}}).Close(testRun())
	var table, mdown bytes.Buffer
	if err := Table(&table, r); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&mdown, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"table": table.String(), "markdown": mdown.String()} {
		flat := strings.Join(strings.Fields(out), " ")
		for _, want := range []string{"protocol: malformed chunked encoding", "edirects not followed: 2", "--follow-redirects"} {
			if !strings.Contains(flat, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, out)
			}
		}
	}
	if strings.Contains(mdown.String(), "<b>") || strings.Contains(mdown.String(), "*login*") {
		t.Errorf("markdown carries the server's markup:\n%s", mdown.String())
	}
}
