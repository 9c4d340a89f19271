package probe

import "time"

// Event is the record of one request. Events of one session are emitted in
// order of Seq. Only the affinity token's value is recorded in clear: other
// cookies may be users' credentials, and appear only in HTTP, redacted.
type Event struct {
	Session  int           `json:"session"`
	Control  bool          `json:"control,omitempty"` // the session belongs to the control group
	Seq      int           `json:"seq"`               // 0-based request number within the session
	Frontend string        `json:"frontend"`          // the target URL the request was sent to
	Local    string        `json:"local,omitempty"`   // local address of the connection
	Start    time.Time     `json:"start"`
	Latency  time.Duration `json:"latency_ns"`
	Status   int           `json:"status,omitempty"`
	Error    ErrorKind     `json:"error,omitempty"`
	Detail   string        `json:"detail,omitempty"`  // the error's text, for humans
	Backend  string        `json:"backend,omitempty"` // "" when the response did not say

	TokenName    string  `json:"token_name,omitempty"`    // "" while the run has not learned it
	TokenHeld    bool    `json:"token_held,omitempty"`    // the jar held the token before this request
	TokenSent    string  `json:"token_sent,omitempty"`    // value sent, "" when not sent
	TokenSet     string  `json:"token_set,omitempty"`     // value the response set
	TokenDeleted bool    `json:"token_deleted,omitempty"` // the response expired the token
	TokenRefused Refusal `json:"token_refused,omitempty"` // why the jar would not send back what was set
	Reused       bool    `json:"reused,omitempty"`        // the request went over a reused connection
	// TokenSecureLoopback: the token set is Secure over plain http, kept
	// only because the origin is localhost or a loopback address (a
	// browser's secure context); on a real host name it is refused.
	TokenSecureLoopback bool `json:"token_secure_loopback,omitempty"`
	Burst               bool `json:"burst,omitempty"` // one of the session's first requests, sent at once (--burst)

	Phase       string `json:"phase,omitempty"`        // the scenario phase the request belongs to
	Path        string `json:"path,omitempty"`         // the path requested, when the phase names paths
	AfterAction string `json:"after_action,omitempty"` // on a session's first request after an exec or pause phase (its name) or a resume ("resume")

	Location  string   `json:"location,omitempty"`  // a redirect not followed: where it pointed (query left out)
	Redirects []string `json:"redirects,omitempty"` // --follow-redirects: the URLs of the hops followed before the final response (query left out)

	// HTTP is the request and response with their headers, secrets
	// redacted; only when the run records exchanges (--har, -vv).
	HTTP *Exchange `json:"http,omitempty"`
}

// Failed reports whether the request failed: no response, or a 5xx.
// A local error is the probe's own, not a failure of the target.
func (e *Event) Failed() bool { return e.Error != "" && e.Error != ErrCanceled && e.Error != ErrLocal }

// Refusal says why a cookie set by a response will not be sent back.
type Refusal string

const (
	RefusedDomain       Refusal = "domain"           // Domain attribute does not match the host
	RefusedPublicSuffix Refusal = "public-suffix"    // Domain attribute is a public suffix
	RefusedSecure       Refusal = "secure-over-http" // Secure cookie on a plain-http origin
	RefusedPath         Refusal = "path"             // Path attribute does not cover the URL
	RefusedExpired      Refusal = "expired"          // a value was set with an expiry in the past
	RefusedInvalid      Refusal = "invalid"          // the Set-Cookie line could not be parsed
	RefusedTooMany      Refusal = "too-many-cookies" // the response had more Set-Cookie lines than net/http reads (3,000): none was stored
)
