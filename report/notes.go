package report

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/stickyprobe/stickyprobe/probe"
)

// Notes are what the report says about the answers beyond the counts:
// why requests failed where the kind alone is vague, the failures that
// were the probe's own, and redirects. Nil when there is nothing to say.
type Notes struct {
	// ErrorReasons counts the reasons of protocol errors, by "kind:
	// reason" (probe.ErrorReason): the events file has the full text.
	ErrorReasons map[string]int64 `json:"error_reasons,omitempty"`
	// LocalErrors are requests the probe's own machine failed (out of
	// file descriptors, ports, buffers), by reason. They are not the
	// target's: never in the error rate, never a cause.
	LocalErrors map[string]int64 `json:"local_errors,omitempty"`
	// Redirects counts the responses that were redirects the probe did
	// not follow, RedirectTo their destinations (at most maxNoteKeys,
	// query strings left out).
	Redirects  int64            `json:"redirects,omitempty"`
	RedirectTo map[string]int64 `json:"redirect_to,omitempty"`
	// Followed counts the requests whose redirects were followed
	// (--follow-redirects), Hops the redirects followed in all.
	Followed int64 `json:"redirects_followed,omitempty"`
	Hops     int64 `json:"redirect_hops,omitempty"`
	// SecureLoopback counts responses that set a Secure token over
	// plain http to localhost or a loopback address, kept only because
	// browsers count those origins as secure.
	SecureLoopback int64 `json:"secure_token_on_loopback,omitempty"`
	// Hints say what to do about the above.
	Hints []string `json:"hints,omitempty"`
}

// maxNoteKeys bounds each map of the notes: a server cannot grow the
// report with a new Location per response.
const maxNoteKeys = 8

// noteEvent adds what ev says to the notes. It is called for every event.
func (s *Summary) noteEvent(ev *probe.Event) {
	n := &s.notes
	if ev.Error == probe.ErrLocal || ev.Error == probe.ErrProtocol {
		reason := probe.ErrorReason(ev.Error, ev.Detail)
		if reason == "" {
			reason = "other"
		}
		if ev.Error == probe.ErrLocal {
			addNote(&n.LocalErrors, reason)
		} else {
			addNote(&n.ErrorReasons, string(ev.Error)+": "+reason)
		}
	}
	if ev.Location != "" {
		n.Redirects++
		addNote(&n.RedirectTo, ev.Location)
	}
	if ev.TokenSecureLoopback {
		n.SecureLoopback++
	}
	if len(ev.Redirects) > 0 {
		n.Followed++
		n.Hops += int64(len(ev.Redirects))
	}
}

func addNote(m *map[string]int64, key string) {
	if *m == nil {
		*m = make(map[string]int64)
	}
	if _, ok := (*m)[key]; !ok && len(*m) >= maxNoteKeys {
		key = "other"
	}
	(*m)[key]++
}

// closeNotes puts the notes and their hints in the report, and a reason
// when redirects are most of what the run saw.
func (s *Summary) closeNotes(r *Report) {
	n := s.notes
	if n.ErrorReasons == nil && n.LocalErrors == nil && n.Redirects == 0 && n.Followed == 0 && n.SecureLoopback == 0 {
		return
	}
	switch h2 := string(probe.ErrProtocol) + ": "; {
	case n.ErrorReasons[h2+probe.ReasonH2cOverH1] > 0:
		n.Hints = append(n.Hints, "The server speaks HTTP/1.1: drop --http2 (h2c with prior knowledge needs an "+
			"HTTP/2 listener, e.g. HAProxy `mode http`, which detects the preface on any bind).")
	case n.ErrorReasons[h2+probe.ReasonNoH2Answer] > 0:
		n.Hints = append(n.Hints, "The server closed the connection without a word of HTTP/2: it likely speaks "+
			"only HTTP/1.1: drop --http2.")
	}
	if local := sumNotes(n.LocalErrors); local > 0 && local == r.Summary.Requests {
		r.Verdict = Error
		r.Reasons = []string{fmt.Sprintf("every request failed on the probe's own machine (%s), none reached the target",
			topNotes(n.LocalErrors, 2))}
	}
	if len(n.LocalErrors) > 0 {
		n.Hints = append(n.Hints, "Requests failed on the probe's own machine, not at the target: raise the "+
			"file descriptor limit (ulimit -n), lower --concurrency, or use --conn session or shared so "+
			"fewer connections are opened.")
	}
	if n.SecureLoopback > 0 {
		n.Hints = append(n.Hints, "The affinity cookie is Secure, over plain http: kept here only because the target is "+
			"localhost or a loopback address, which browsers treat as secure. Users who reach this frontend by a real "+
			"host name over http never keep it. A real host name is needed to see that: --resolve NAME:PORT:127.0.0.1.")
	}
	if n.Redirects > 0 {
		n.Hints = append(n.Hints, fmt.Sprintf("%d responses were redirects, judged as they are: a redirect "+
			"rarely names a backend. Probe the URL they point to, or pass --follow-redirects to follow them "+
			"in each session's jar as a browser does.", n.Redirects))
		if r.Summary.Requests > 0 && 2*n.Redirects >= r.Summary.Requests {
			r.Reasons = append(r.Reasons, fmt.Sprintf("%d of %d responses were redirects (to %s): see --follow-redirects",
				n.Redirects, r.Summary.Requests, topNotes(n.RedirectTo, 1)))
		}
	}
	r.Notes = &n
}

// topNotes lists the k most frequent keys of m, with their counts.
func topNotes(m map[string]int64, k int) string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, min(k, len(keys)))
	for _, key := range keys[:min(k, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s ×%d", clean(key), m[key]))
	}
	return strings.Join(parts, ", ")
}

// writeNotes is the table's account of the notes, after the summary.
func writeNotes(b *bytes.Buffer, r *Report) {
	n := r.Notes
	if n == nil {
		return
	}
	if len(n.ErrorReasons) > 0 {
		writeWrapped(b, "error reasons: "+topNotes(n.ErrorReasons, maxNoteKeys), "", "  ")
	}
	if len(n.LocalErrors) > 0 {
		total := sumNotes(n.LocalErrors)
		writeWrapped(b, fmt.Sprintf("the probe's own errors, not counted against the target: %d (%s)",
			total, topNotes(n.LocalErrors, maxNoteKeys)), "", "  ")
	}
	if n.Redirects > 0 {
		writeWrapped(b, fmt.Sprintf("redirects not followed: %d, to %s", n.Redirects, topNotes(n.RedirectTo, maxNoteKeys)), "", "  ")
	}
	if n.Followed > 0 {
		writeWrapped(b, fmt.Sprintf("redirects followed: %d requests, %d hops", n.Followed, n.Hops), "", "  ")
	}
	for _, h := range n.Hints {
		writeWrapped(b, "hint: "+h, "", "  ")
	}
}

// refusalHints say, for each refusal of the browser jar and for too many
// cookies, what the LB's configuration lacks. The generic token-refused
// hint covers the RFC 6265 refusals (domain, secure, path).
var refusalHints = map[probe.Refusal]string{
	probe.RefusedSameSiteNone: "SameSite=None without Secure: Chrome and Firefox drop the cookie, so no browser " +
		"user is ever pinned. Add `secure` to the `cookie` line (and serve https), or drop " +
		"`attr \"SameSite=None\"`; --jar rfc6265 judges as an API client, which keeps it.",
	probe.RefusedSecurePrefix: "A __Secure- cookie needs `secure` on the `cookie` line and an https frontend.",
	probe.RefusedHostPrefix: "A __Host- cookie needs `secure`, an https frontend, Path=/ and no `domain` on the " +
		"`cookie` line.",
	probe.RefusedTooLarge: "The cookie's name and value exceed 4096 bytes: browsers ignore it (rfc6265bis Set-Cookie parsing).",
	probe.RefusedEvicted: "The response's own cookies pushed the LB's cookie out: browsers keep at most 180 cookies " +
		"per domain (Chrome) and drop the oldest first; the application sets too many.",
	probe.RefusedTooMany: "The response carried more than 3,000 Set-Cookie headers: Go's parser reads none of them, " +
		"so the probe could not see the cookie; a browser keeps at most 180 per domain. The application " +
		"sets far too many cookies.",
}

// addRefusalHints appends to the token-refused hint what each refusal
// seen asks for. When every refusal is one of those, the generic words
// about domain, secure and path, which would mislead, are left out.
func addRefusalHints(r *Report) {
	if r.Hints[CauseTokenRefused] == "" || len(r.Refusals) == 0 {
		return
	}
	reasons := make([]string, 0, len(r.Refusals))
	generic := false
	for reason := range r.Refusals {
		reasons = append(reasons, string(reason))
		generic = generic || refusalHints[reason] == ""
	}
	sort.Strings(reasons)
	hint := r.Hints[CauseTokenRefused]
	if !generic {
		hint = "The LB set the cookie but a browser refuses it."
	}
	for _, reason := range reasons {
		if h := refusalHints[probe.Refusal(reason)]; h != "" {
			hint += " " + reason + ": " + h
		}
	}
	r.Hints[CauseTokenRefused] = hint
}

func sumNotes(m map[string]int64) int64 {
	total := int64(0)
	for _, v := range m {
		total += v
	}
	return total
}

// writeNotesMarkdown is the notes as Markdown, after the summary. Hints
// keep their code spans (they are ours); everything from the server is
// escaped.
func writeNotesMarkdown(b *bytes.Buffer, r *Report) {
	n := r.Notes
	if n == nil {
		return
	}
	if len(n.ErrorReasons) > 0 {
		fmt.Fprintf(b, "\nError reasons: %s.\n", md(topNotes(n.ErrorReasons, maxNoteKeys)))
	}
	if len(n.LocalErrors) > 0 {
		fmt.Fprintf(b, "\nThe probe's own errors, not counted against the target: %d (%s).\n",
			sumNotes(n.LocalErrors), md(topNotes(n.LocalErrors, maxNoteKeys)))
	}
	if n.Redirects > 0 {
		fmt.Fprintf(b, "\nRedirects not followed: %d, to %s.\n", n.Redirects, md(topNotes(n.RedirectTo, maxNoteKeys)))
	}
	if n.Followed > 0 {
		fmt.Fprintf(b, "\nRedirects followed: %d requests, %d hops.\n", n.Followed, n.Hops)
	}
	for _, h := range n.Hints {
		fmt.Fprintf(b, "\n> %s\n", hintCell(h))
	}
}
