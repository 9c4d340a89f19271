package report

import "github.com/stickyprobe/stickyprobe/probe"

// HAR 1.2 objects, with the fields the spec requires always present.

type harPage struct {
	Started string         `json:"startedDateTime"`
	ID      string         `json:"id"`
	Title   string         `json:"title"`
	Timings harPageTimings `json:"pageTimings"`
	Probe   harPageProbe   `json:"_stickyprobe"`
}

type harPageTimings struct {
	OnContentLoad float64 `json:"onContentLoad"`
	OnLoad        float64 `json:"onLoad"`
}

// harPageProbe is the probe's verdict on the session.
type harPageProbe struct {
	Session  int           `json:"session"`
	Source   string        `json:"source,omitempty"`
	Control  bool          `json:"control,omitempty"`
	Broken   bool          `json:"broken"`
	Pin      string        `json:"pin,omitempty"`
	Cause    Cause         `json:"cause,omitempty"`
	Refusal  probe.Refusal `json:"refusal,omitempty"`
	Requests int           `json:"requests"`
	Switches int           `json:"switches"`
}

type harEntry struct {
	Pageref    string        `json:"pageref"`
	Started    string        `json:"startedDateTime"`
	Time       float64       `json:"time"`
	Request    harRequest    `json:"request"`
	Response   harResponse   `json:"response"`
	Cache      struct{}      `json:"cache"`
	Timings    harTimings    `json:"timings"`
	ServerIP   string        `json:"serverIPAddress,omitempty"`
	Connection string        `json:"connection,omitempty"`
	Error      string        `json:"_error,omitempty"` // as Chromium writes a failed request
	Probe      harEntryProbe `json:"_stickyprobe"`
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harCookie struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Path     string `json:"path,omitempty"`
	Domain   string `json:"domain,omitempty"`
	Expires  string `json:"expires,omitempty"`
	HTTPOnly bool   `json:"httpOnly,omitempty"`
	Secure   bool   `json:"secure,omitempty"`
}

type harRequest struct {
	Method      string      `json:"method"`
	URL         string      `json:"url"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []harCookie `json:"cookies"`
	Headers     []harNV     `json:"headers"`
	QueryString []harNV     `json:"queryString"`
	HeadersSize int         `json:"headersSize"`
	BodySize    int         `json:"bodySize"`
}

type harResponse struct {
	Status      int         `json:"status"`
	StatusText  string      `json:"statusText"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []harCookie `json:"cookies"`
	Headers     []harNV     `json:"headers"`
	Content     harContent  `json:"content"`
	RedirectURL string      `json:"redirectURL"`
	HeadersSize int         `json:"headersSize"`
	BodySize    int64       `json:"bodySize"`
}

type harContent struct {
	Size     int64  `json:"size"`
	MimeType string `json:"mimeType"`
	Comment  string `json:"comment,omitempty"`
}

// harTimings in milliseconds; -1 for a phase that did not happen.
type harTimings struct {
	Blocked float64 `json:"blocked"`
	DNS     float64 `json:"dns"`
	Connect float64 `json:"connect"`
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
	SSL     float64 `json:"ssl"`
}

// harEntryProbe is the probe's verdict on one request.
type harEntryProbe struct {
	Session      int             `json:"session"`
	Source       string          `json:"source,omitempty"`
	Seq          int             `json:"seq"`
	Control      bool            `json:"control,omitempty"`
	Frontend     string          `json:"frontend"`
	Backend      string          `json:"backend,omitempty"`
	Pin          string          `json:"pin,omitempty"`
	Switch       bool            `json:"switch,omitempty"`
	Cause        Cause           `json:"cause,omitempty"` // on a switch: the session's cause
	TokenName    string          `json:"token_name,omitempty"`
	TokenHeld    bool            `json:"token_held,omitempty"`
	TokenSent    string          `json:"token_sent,omitempty"`
	TokenSet     string          `json:"token_set,omitempty"`
	TokenDeleted bool            `json:"token_deleted,omitempty"`
	TokenRefused probe.Refusal   `json:"token_refused,omitempty"`
	Error        probe.ErrorKind `json:"error,omitempty"`
	Detail       string          `json:"detail,omitempty"`
	Reused       bool            `json:"reused,omitempty"`
	LatencyMS    float64         `json:"latency_ms"`
}
