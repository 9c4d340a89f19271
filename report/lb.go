package report

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
)

// LB says which load balancer a report's hints speak of, and why: given
// with --lb, or detected from what the responses showed.
type LB struct {
	Kind     string `json:"kind"`     // one of LBKinds
	Detected bool   `json:"detected"` // false: the user named it
	Why      string `json:"why"`      // the evidence, or "--lb"
}

// LBKinds are the load balancers hints can speak of; generic names no
// product's directives.
var LBKinds = []string{"haproxy", "nginx", "caddy", "apache", "generic"}

// SetLB makes the report's hints speak lb's language: every hint of a
// cause the report has is replaced by that load balancer's, and Run.LB
// says which and why. The causes themselves do not change. Close calls it
// when the run it is given names an LB, so a report rebuilt from an
// events file speaks as the live one did.
func (r *Report) SetLB(lb LB) {
	r.Run.LB = &lb
	for c := range r.Hints {
		r.Hints[c] = c.HintFor(lb.Kind)
	}
}

// HintFor is Hint in the words of load balancer kind (one of LBKinds);
// HAProxy's for "haproxy" and any kind it does not know.
func (c Cause) HintFor(kind string) string {
	var table map[Cause]string
	switch kind {
	case "nginx":
		table = nginxHints
	case "caddy":
		table = caddyHints
	case "apache":
		table = apacheHints
	case "generic":
		table = genericHints
	default:
		return c.Hint()
	}
	if h, ok := table[c]; ok {
		return h
	}
	return genericHints[c]
}

// LBEvidence is what one response said about the load balancer that
// answered it.
type LBEvidence struct {
	Server    string         // the Server header
	Cookies   []*http.Cookie // the cookies it set
	TokenName string         // the persistence cookie's name, if the run learned or was given one
	Response  bool           // Server and Cookies come from a response (not from the report alone)
}

var (
	caddyValue  = regexp.MustCompile(`^[0-9a-f]{64}$`) // hex HMAC-SHA256 of the upstream
	apacheRoute = regexp.MustCompile(`^[^.]*\.[A-Za-z0-9_-]+$`)
)

// DetectLB names the load balancer ev points at. The persistence cookie
// speaks first (its name and value shape are the LB's own), then the
// Server header: nginx, Caddy and Apache add one, HAProxy does not, so a
// response without one points at HAProxy. A Server header naming
// something else (or no response at all) is generic.
func DetectLB(ev LBEvidence) LB {
	for _, ck := range ev.Cookies {
		if ev.TokenName != "" && ck.Name != ev.TokenName {
			continue
		}
		switch {
		case ck.Name == "SERVERID":
			return LB{Kind: "haproxy", Detected: true, Why: "persistence cookie SERVERID (HAProxy's `cookie SERVERID insert`)"}
		case caddyValue.MatchString(ck.Value) && strings.HasPrefix(ev.Server, "Caddy"):
			return LB{Kind: "caddy", Detected: true, Why: "Server: Caddy and cookie " + ck.Name + " holding a 64-hex-digit HMAC (`lb_policy cookie`)"}
		case ck.Name == "lb" && caddyValue.MatchString(ck.Value):
			return LB{Kind: "caddy", Detected: true, Why: "cookie lb holding a 64-hex-digit HMAC (Caddy's `lb_policy cookie`)"}
		case (ck.Name == "ROUTEID" || ck.Name == "BALANCEID") && apacheRoute.MatchString(ck.Value):
			return LB{Kind: "apache", Detected: true, Why: "cookie " + ck.Name + " holding a .route (Apache's `stickysession`)"}
		}
	}
	server := strings.ToLower(ev.Server)
	for _, k := range []struct{ prefix, kind string }{{"nginx", "nginx"}, {"caddy", "caddy"}, {"apache", "apache"}, {"haproxy", "haproxy"}} {
		if strings.HasPrefix(server, k.prefix) {
			return LB{Kind: k.kind, Detected: true, Why: "Server: " + ev.Server}
		}
	}
	switch {
	case !ev.Response:
		return LB{Kind: "generic", Detected: true, Why: "no response to read a Server header from, and no cookie of a known load balancer"}
	case ev.Server == "":
		return LB{Kind: "haproxy", Detected: true, Why: "no Server header (nginx, Caddy and Apache add one, HAProxy does not) and no cookie of another load balancer"}
	}
	return LB{Kind: "generic", Detected: true, Why: "Server: " + ev.Server + " names no known load balancer"}
}

// lbLine says whose words the hints are in and why, or "" when SetLB was
// not called (HAProxy's words, as before there was a choice).
func lbLine(r *Report) string {
	lb := r.Run.LB
	if lb == nil {
		return ""
	}
	name := lbNames[lb.Kind]
	if !lb.Detected {
		return "hints for " + name + " (--lb " + lb.Kind + ")"
	}
	return "hints for " + name + ", detected: " + lb.Why + " (--lb picks another)"
}

var lbNames = map[string]string{"haproxy": "HAProxy", "nginx": "nginx", "caddy": "Caddy", "apache": "Apache", "generic": "any load balancer"}

func writeLBLine(b *bytes.Buffer, r *Report) {
	if line := lbLine(r); line != "" {
		writeWrapped(b, line, "", "  ")
	}
}

func mdLBLine(b *bytes.Buffer, r *Report) {
	if line := lbLine(r); line != "" {
		b.WriteString(md(line) + "\n\n")
	}
}

// TokenName is the persistence cookie's name, once the run has learned
// it (or was given it), for detecting the LB before the report is closed.
func (s *Summary) TokenName() string { return s.tokenName }
