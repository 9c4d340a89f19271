package report

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stickyprobe/stickyprobe/redact"
)

// Markdown writes the report made to paste into a GitHub or GitLab issue:
// the verdict and why, a summary, the backends, the causes of breakage
// with their hints, one collapsible timeline per cause, and the command
// that repeats the run. Everything a server chose (backend names, token
// values) is escaped, so it cannot break the page or inject markup.
func Markdown(w io.Writer, r *Report) error {
	if r == nil {
		r = new(Report)
	}
	var b bytes.Buffer
	v := strings.ToUpper(string(r.Verdict))
	if v == "" {
		v = "NONE (empty report)"
	}
	fmt.Fprintf(&b, "## stickyprobe: %s\n\n", v)
	if r.Run.Interrupted {
		b.WriteString("- **interrupted**: partial report; the run was stopped before its end\n")
	}
	if r.Run.Truncated {
		b.WriteString("- **stopped at --max-duration**: fewer requests were sent than planned\n")
	}
	if r.Run.Cut > 0 {
		fmt.Fprintf(&b, "- %s\n", md(cutLine(r.Run.Cut)))
	}
	for _, reason := range r.Reasons {
		fmt.Fprintf(&b, "- %s\n", md(reason))
	}
	mdRun(&b, r)
	mdSummary(&b, r)
	mdBackends(&b, r)
	mdTopology(&b, r)
	mdLBState(&b, r)
	mdHAProxyConfig(&b, r)
	mdCauses(&b, r)
	mdTimelines(&b, r)
	mdRerun(&b, r)
	fmt.Fprintf(&b, "\n<sub>%s · rebuilt from the events file with <code>stickyprobe report EVENTS.jsonl --format markdown</code></sub>\n", md(orDash(r.Schema)))
	_, err := w.Write(b.Bytes())
	return err
}

func mdRun(b *bytes.Buffer, r *Report) {
	run := r.Run
	if len(run.Targets) == 0 && run.Started.IsZero() {
		return
	}
	b.WriteString("\nProbed ")
	for i, t := range run.Targets {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(code(t))
	}
	if !run.Started.IsZero() {
		b.WriteString(" at " + run.Started.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if run.DurationS > 0 {
		b.WriteString(" for " + time.Duration(run.DurationS*float64(time.Second)).Round(100*time.Millisecond).String())
	}
	fmt.Fprintf(b, ": token %s, identity %s, connections %s, seed %s.\n",
		code(tokenText(run)), code(orDash(run.Identify)), code(orDash(run.Conn)), code(strconv.FormatUint(run.Seed, 10)))
}

func mdSummary(b *bytes.Buffer, r *Report) {
	c := r.Summary
	stickiness := "n/a"
	if c.Sticky+c.Broken > 0 {
		stickiness = pct(c.Stickiness)
	}
	lat := "-"
	if r.LatencyMS.Max > 0 {
		lat = fmt.Sprintf("%s / %s / %s", msText(r.LatencyMS.P50), msText(r.LatencyMS.P99), msText(r.LatencyMS.Max))
	}
	b.WriteString("\n### Summary\n\n")
	b.WriteString("| sessions | sticky | broken | unidentified | stickiness | requests | errors | latency p50 / p99 / max |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(b, "| %d | %s | %d | %d | %s | %d | %d (%s) | %s |\n",
		c.Sessions, stickyText(c), c.Broken, c.Unidentified, stickiness, c.Requests, c.Errors, pct(c.ErrorRate), lat)
	if c.Errors > 0 && len(r.Errors) > 0 {
		fmt.Fprintf(b, "\nErrors by kind: %s.\n", md(countList(r.Errors)))
	}
	writeNotesMarkdown(b, r)
	fmt.Fprintf(b, "\n%s.\n", md(upperFirst(sensitivityLine(r))))
}

func mdBackends(b *bytes.Buffer, r *Report) {
	if len(r.Backends) == 0 {
		return
	}
	names := make([]string, 0, len(r.Backends))
	var identified int64
	for name, be := range r.Backends {
		names = append(names, name)
		identified += be.Requests
	}
	slices.Sort(names)
	b.WriteString("\n### Backends\n\n| backend | pinned sessions | requests | share |\n|---|---:|---:|---:|\n")
	for i, name := range names {
		if i == maxBackendRows {
			fmt.Fprintf(b, "| … %d more (see the JSON report) | | | |\n", len(names)-i)
			break
		}
		be := r.Backends[name]
		share := "-"
		if identified > 0 {
			share = pct(float64(be.Requests) / float64(identified))
		}
		fmt.Fprintf(b, "| %s | %d | %d | %s |\n", md(shorten(name, maxCell)), be.Sessions, be.Requests, share)
	}
}

func mdCauses(b *bytes.Buffer, r *Report) {
	causes := causeOrder(r)
	if len(causes) == 0 {
		return
	}
	if expectSpread(r) {
		fmt.Fprintf(b, "\nToken `none`: sessions are expected to spread over the backends, so the %d that changed backend are not broken persistence.\n", r.Summary.Broken)
		return
	}
	broken := 0
	for _, c := range causes {
		broken += r.Causes[c]
	}
	b.WriteString("\n### Why sessions broke\n\n")
	mdLBLine(b, r)
	b.WriteString("| cause | broken sessions | share | what to check |\n|---|---:|---:|---|\n")
	for _, c := range causes {
		hint := r.Hints[c]
		if hint == "" && slices.Contains(Causes, c) {
			hint = c.Hint()
		}
		name := code(string(c))
		if c == CauseTokenRefused && len(r.Refusals) > 0 {
			name += " (" + md(countList(r.Refusals)) + ")"
		}
		fmt.Fprintf(b, "| %s | %d | %s | %s |\n", name, r.Causes[c], pct0(float64(r.Causes[c])/float64(broken)), hintCell(hint))
	}
}

// hintCell keeps a hint's code spans (they are ours, not a server's) and
// only escapes what would end the table cell.
func hintCell(h string) string {
	return strings.ReplaceAll(strings.ReplaceAll(clean(h), "|", `\|`), "\n", " ")
}

func mdTimelines(b *bytes.Buffer, r *Report) {
	if expectSpread(r) {
		return
	}
	for _, c := range causeOrder(r) {
		first, more := firstSample(r, c)
		if first == nil {
			continue
		}
		what := string(c)
		if first.Refusal != "" {
			what += ": " + string(first.Refusal)
		}
		fmt.Fprintf(b, "\n<details>\n<summary><b>%s</b>: session %s, pinned to %s", html(what), html(sampleName(first)), html(orDash(first.Pin)))
		if more > 0 {
			fmt.Fprintf(b, " (%d more sampled in the JSON report)", more)
		}
		b.WriteString("</summary>\n\n| # | backend | status | token sent | token set | token | latency | |\n|---:|---|---|---|---|---|---:|---|\n")
		prev := ""
		for i, st := range first.Steps {
			if i > 0 && st.Seq > first.Steps[i-1].Seq+1 {
				b.WriteString("| … | | | | | | | |\n")
			}
			var flags []string
			if st.TokenDeleted {
				flags = append(flags, "deleted")
			}
			if st.TokenRefused != "" {
				flags = append(flags, "refused: "+string(st.TokenRefused))
			}
			mark := ""
			if st.Switch && st.Backend != prev {
				mark = "**← switch**"
			}
			if st.Backend != "" {
				prev = st.Backend
			}
			fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", st.Seq, md(shorten(orDash(st.Backend), maxCell)),
				md(statusText(st)), md(tokenValue(st.TokenSent)), md(tokenValue(st.TokenSet)), md(strings.Join(flags, ", ")), msText(st.LatencyMS), mark)
		}
		b.WriteString("\n</details>\n")
	}
}

func mdRerun(b *bytes.Buffer, r *Report) {
	if r.Run.Command == "" && len(r.Run.Vantages) == 0 {
		return
	}
	b.WriteString("\n### Rerun\n\n```sh\n")
	if r.Run.Command != "" {
		if strings.Contains(r.Run.Command, redact.Prefix) {
			b.WriteString("# secret values are redacted: put the real ones back to rerun\n")
		}
		writeCommand(b, "", r.Run.Command)
	}
	for _, v := range r.Run.Vantages {
		if v.Command != "" {
			fmt.Fprintf(b, "# %s\n", strings.ReplaceAll(clean(v.Source), "`", "'"))
			writeCommand(b, "", strings.ReplaceAll(v.Command, "```", "'''"))
		}
	}
	b.WriteString("```\n")
}

// md escapes text for a Markdown table cell or paragraph.
func md(s string) string {
	var sb strings.Builder
	for _, c := range clean(s) {
		switch c {
		case '&':
			sb.WriteString("&amp;")
		case '<':
			sb.WriteString("&lt;")
		case '>':
			sb.WriteString("&gt;")
		case '\\', '`', '*', '_', '[', ']', '|', '~', '#', '!':
			sb.WriteByte('\\')
			sb.WriteRune(c)
		default:
			sb.WriteRune(c)
		}
	}
	return sb.String()
}

// html escapes text inside an HTML element such as <summary>.
func html(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(clean(s))
}

// code is a code span; its content is shown verbatim, so only backticks
// and what ends a table cell need care.
func code(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(clean(s), "`", "'"), "|", `\|`)
	return "`" + s + "`"
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
