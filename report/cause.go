package report

// Cause explains why a session switched backend.
type Cause string

const (
	CauseNoToken         Cause = "no-token"
	CauseTokenRefused    Cause = "token-refused"
	CauseTokenNotSent    Cause = "token-not-sent"
	CauseTokenIgnored    Cause = "token-ignored"
	CauseTokenReassigned Cause = "token-reassigned"
	CauseAfterAction     Cause = "after-action"
	CauseAfterError      Cause = "after-error"
	CauseFrontendChanged Cause = "frontend-changed"
	CauseSourceChanged   Cause = "source-changed"
	CauseBirthSplit      Cause = "birth-split"
	CauseUnexplained     Cause = "unexplained"
)

// Causes lists every cause in the order reports show them: configuration
// mistakes first, then what the LB did with a token it got, then what the
// topology did. New causes go before unexplained, which stays last.
var Causes = []Cause{
	CauseNoToken, CauseTokenRefused, CauseTokenNotSent, CauseTokenIgnored,
	CauseTokenReassigned, CauseAfterAction, CauseAfterError,
	CauseFrontendChanged, CauseSourceChanged, CauseBirthSplit, CauseUnexplained,
}

func causeIndex(c Cause) int {
	for i, x := range Causes {
		if x == c {
			return i
		}
	}
	return len(Causes) - 1
}

// Hint names the likely configuration mistake behind a cause, in HAProxy's
// words (other load balancers have the same knobs under other names).
func (c Cause) Hint() string {
	switch c {
	case CauseNoToken:
		return "The LB never set the affinity cookie, or only deleted it. Check that the backend has " +
			"`cookie SERVERID insert indirect nocache` and that every `server` line has `cookie <value>` " +
			"(without it HAProxy 2.6 expires the cookie on every response, and `haproxy -c` does not warn). " +
			"`mode tcp` cannot set cookies; `postonly` skips GET traffic."
	case CauseTokenRefused:
		return "The LB set the cookie but a browser refuses it. Check the `cookie` line's `domain` " +
			"(it must match the host users open) and `secure` (needs https), and the cookie's Path."
	case CauseTokenNotSent:
		return "The client held the cookie but did not send it on this URL: its Path is narrower than " +
			"the application, or it expired (`maxlife`, `maxidle`, Max-Age/Expires)."
	case CauseTokenIgnored:
		return "The client sent the cookie, another server answered and no new cookie was set: the LB " +
			"does not know this cookie value (cookie values changed by a deploy, another LB node with " +
			"different `cookie` values) or persistence is off for this request (`ignore-persist`)."
	case CauseTokenReassigned:
		return "The client sent the cookie but the LB chose another server and set a new cookie: " +
			"`option redispatch` after the pinned server went down or into maintenance, `maxidle`/`maxlife` " +
			"expiry, or the server was removed."
	case CauseAfterAction:
		return "The session was sticky until a scenario step (a restart, reload or deploy: an exec or pause " +
			"phase, or a resume) and changed backend after it. A `stick-table` is lost on a restart, and on a " +
			"reload unless a `peers` section names the local peer (`stick-table ... peers <section>`); even then " +
			"HAProxy 2.6 loses it on a reload within 5 s of a cold start. With cookie persistence, the deploy " +
			"changed the servers' `cookie` values or names."
	case CauseAfterError:
		return "The switch followed a failed request: the pinned server failed or was overloaded and the " +
			"LB failed over. Check the server's health (`check`), `option redispatch` and `retries`."
	case CauseFrontendChanged:
		return "The session changed backend when it moved to another LB node: the nodes do not agree on " +
			"persistence. Check that every node has the same `server` lines with the same `cookie <value>` " +
			"(and the same server names and order for hashing), or that stick tables are shared through a " +
			"`peers` section listing every node."
	case CauseSourceChanged:
		return "The session changed backend when its client address changed: source-address persistence " +
			"(`balance source`, `stick on src`) cannot follow a user behind a NAT that changed, a proxy chain " +
			"or a mobile network. Use cookie persistence (`cookie SERVERID insert`), or stick on a header the " +
			"client keeps."
	case CauseBirthSplit:
		return "The session's first requests, sent at once before any Set-Cookie came back (as a browser " +
			"loads a page), went to different servers: the user starts out split. Give the page a landing " +
			"request that sets the cookie first, or balance on something every first request carries " +
			"(`balance source`, `balance hdr(...)`, `hash-type consistent`)."
	}
	return "No evidence explains the switch: the LB does not apply persistence to this traffic. With " +
		"`--token source`, check `balance source` / `stick on src` and any proxy or NAT that changes the " +
		"client address; with hashing, a server going down or coming back remaps users of the other servers " +
		"too unless the backend has `hash-type consistent`. With cookies, use `--id` to name the backend reliably."
}
