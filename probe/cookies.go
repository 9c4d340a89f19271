package probe

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/publicsuffix"
)

// jar is a session's cookie jar: net/http/cookiejar with the public suffix
// list, kept small between requests.
//
// A cookiejar.Jar holding one cookie costs about 770 bytes (maps of maps
// of 150-byte entries), most of a session's memory at 100,000 sessions,
// and asking it what to send costs a public suffix lookup, a map walk and
// three allocations per request. Yet what a jar holds is a function of the
// SetCookies calls it got and, through expiry alone, of the time: the
// jar's rules (domain, host-only, path, secure, public suffix, order)
// depend on the cookies and the URL; its clock only turns a Max-Age into
// an expiry and decides whether an expiry has passed. So while no cookie
// stored has expired since it was stored, the record of the calls is the
// jar: replayed into a new cookiejar.Jar (a Max-Age replayed as the
// expiry it gave when it was stored) it holds the same entries, created
// in the same order, which with the path length is what orders the Cookie
// header. A session cookie never expires; an expired one deletes
// whenever it is applied; and a cookie whose expiry lies beyond the
// horizon, the time by which the run has certainly ended, cannot expire
// while anyone asks this jar anything.
//
// So the session keeps the calls (ops), and what the jar sends to its
// frontend, computed once per change by replaying them into a throwaway
// cookiejar.Jar. The first cookie that could expire before the horizon
// turns the record into a live cookiejar.Jar, replayed from ops, used
// from then on exactly as the probe always used its jar. So does a
// record that grew past maxOps.
type jar struct {
	ops    []cookieOp
	live   *cookiejar.Jar // nil while ops is the jar
	shared *jarShared     // the run's; nil: no horizon, no shared lists

	sendURL *url.URL
	send    []*http.Cookie // what the jar sends to sendURL; read-only
	fresh   bool           // send is up to date with ops

	// order: a live browser jar's cookies, oldest first, for the limit
	// per domain (jar_browser.go); nil otherwise. While the jar is a
	// record of at most domainMaxCookies lines no limit can be reached.
	order *cookieOrder
}

// cookieOp is one SetCookies call: the URL and the Set-Cookie lines of a
// response, which replay parses again as Response.Cookies did, and when
// (Unix nanoseconds), for the Max-Age among them.
type cookieOp struct {
	u     *url.URL
	lines []string
	at    int64
}

// maxOps bounds the record: a session whose responses keep setting
// different cookies gets a live jar instead.
const maxOps = 8

// jarShared is what the jars of one run share.
type jarShared struct {
	// horizon: no jar is used after it (the run's end, with a margin).
	// A cookie that expires later cannot expire during the run.
	horizon time.Time
	lists   sendLists
}

// sameForCookies reports whether Jar.Cookies answers the same for a and b:
// it reads their scheme, host and path.
func sameForCookies(a, b *url.URL) bool {
	return a == b || (a != nil && a.Scheme == b.Scheme && a.Host == b.Host && a.Path == b.Path)
}

func newCookieJar() *cookiejar.Jar {
	// cookiejar.New only fails on options it does not get here.
	j, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	return j
}

// Cookies returns what the jar sends to u, as Jar.Cookies(u). The slice
// is shared: callers must not change it.
func (j *jar) Cookies(u *url.URL) []*http.Cookie {
	if j.live != nil {
		return j.live.Cookies(u)
	}
	if len(j.ops) == 0 {
		return nil
	}
	if !j.fresh || !sameForCookies(j.sendURL, u) {
		send := j.replay().Cookies(u)
		if j.shared != nil {
			send = j.shared.lists.intern(send)
		}
		j.send, j.sendURL, j.fresh = send, u, true
	}
	return j.send
}

// setCookies stores a response's cookies, as Jar.SetCookies(u, cookies):
// lines are the response's Set-Cookie lines, cookies what
// Response.Cookies parsed of them, now the time of the response.
func (j *jar) setCookies(u *url.URL, lines []string, cookies []*http.Cookie, now time.Time) {
	j.store(u, lines, cookies, now, false)
}

// store is setCookies; browser applies the browser jar's limit of
// cookies per domain (the caller has dropped the lines a browser
// refuses). evicted says the limit removed cookies.
func (j *jar) store(u *url.URL, lines []string, cookies []*http.Cookie, now time.Time, browser bool) (evicted bool) {
	if len(cookies) == 0 {
		return false // SetCookies does nothing
	}
	var horizon time.Time
	if j.shared != nil {
		horizon = j.shared.horizon
	}
	if j.live == nil && unexpiring(cookies, now, horizon) && !(browser && recordedLines(j.ops)+len(lines) > domainMaxCookies) {
		if n := len(j.ops); n > 0 && j.ops[n-1].u == u && slices.Equal(j.ops[n-1].lines, lines) {
			// The same call again changes no value and no creation
			// time, only the expiry a Max-Age gives: it is as if the
			// last call had been made now.
			j.ops[n-1].at = now.UnixNano()
			return false
		}
		if len(j.ops) < maxOps {
			// A copy: the record must not see what may later be done
			// to the response's header (redaction, say).
			j.ops = append(j.ops, cookieOp{u: u, lines: slices.Clone(lines), at: now.UnixNano()})
			j.fresh = false
			return false
		}
	}
	j.goLive(browser)
	j.live.SetCookies(u, cookies)
	return browser && j.limit(u, cookies, now)
}

// goLive turns the record into a live cookiejar.Jar, if it is not one
// yet. A browser jar takes the order of its cookies along.
func (j *jar) goLive(browser bool) {
	if j.live != nil {
		return
	}
	if browser {
		j.order = &cookieOrder{}
		for _, op := range j.ops {
			j.order.add(op.u, (&http.Response{Header: http.Header{"Set-Cookie": op.lines}}).Cookies(), time.Unix(0, op.at))
		}
	}
	j.live = j.replay()
	j.ops, j.send, j.fresh = nil, nil, false
}

// limit accounts for cookies stored in a live browser jar and evicts the
// oldest of a domain past the limit.
func (j *jar) limit(u *url.URL, cookies []*http.Cookie, now time.Time) bool {
	if j.order == nil {
		return false
	}
	j.order.add(u, cookies, now)
	gone := j.order.evict()
	for _, k := range gone {
		j.live.SetCookies(k.u, []*http.Cookie{k.deletion()})
	}
	return len(gone) > 0
}

// recordedLines counts the Set-Cookie lines of the record: a bound on the
// cookies it holds.
func recordedLines(ops []cookieOp) int {
	n := 0
	for _, op := range ops {
		n += len(op.lines)
	}
	return n
}

// restore stores saved cookies (Runner.Restore), as Jar.SetCookies(u,
// cookies). They come with no Set-Cookie lines to record, and with
// expiries of an earlier process: the jar turns live first.
func (j *jar) restore(u *url.URL, cookies []*http.Cookie, browser bool) {
	j.goLive(browser)
	j.live.SetCookies(u, cookies)
	if browser {
		j.limit(u, cookies, time.Now())
	}
}

// replay is a new cookiejar.Jar that got the recorded calls, each Max-Age
// replayed as the expiry it gave at the time of its call.
func (j *jar) replay() *cookiejar.Jar {
	cj := newCookieJar()
	for _, op := range j.ops {
		cookies := (&http.Response{Header: http.Header{"Set-Cookie": op.lines}}).Cookies()
		for i, c := range cookies {
			if c.MaxAge > 0 {
				at := *c
				at.Expires = time.Unix(0, op.at).Add(time.Duration(c.MaxAge) * time.Second)
				at.MaxAge = 0
				cookies[i] = &at
			}
		}
		cj.SetCookies(op.u, cookies)
	}
	return cj
}

// unexpiring reports whether none of cookies, stored at now, can expire
// before horizon: a session cookie, one that deletes (Max-Age < 0, or
// Expires at or before now), or one that expires after horizon.
func unexpiring(cookies []*http.Cookie, now, horizon time.Time) bool {
	for _, c := range cookies {
		var expires time.Time
		switch {
		case c.MaxAge < 0:
			continue
		case c.MaxAge > 0:
			expires = now.Add(time.Duration(c.MaxAge) * time.Second)
		case c.Expires.IsZero() || !c.Expires.After(now):
			continue
		default:
			expires = c.Expires
		}
		if horizon.IsZero() || !expires.After(horizon) {
			return false
		}
	}
	return true
}

// sendLists shares the lists of cookies jars send among a run's sessions:
// behind an LB that sets one cookie, 100,000 sessions send one of a
// handful of lists, and each list costs about 220 bytes. Shared lists are
// never changed.
type sendLists struct {
	mu    sync.Mutex
	lists map[string][]*http.Cookie
}

// maxSendLists bounds the table: past it (an application cookie unique to
// each session), sessions keep their own lists.
const maxSendLists = 4096

// intern returns the shared list equal to cs, adding cs if there is room.
func (t *sendLists) intern(cs []*http.Cookie) []*http.Cookie {
	if len(cs) == 0 {
		return cs
	}
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.Name)
		b.WriteByte('=')
		b.WriteString(c.Value)
		if c.Quoted {
			b.WriteByte('"')
		}
		b.WriteByte(0) // in neither a name nor a value
	}
	key := b.String()
	t.mu.Lock()
	defer t.mu.Unlock()
	if l, ok := t.lists[key]; ok {
		return l
	}
	if t.lists == nil {
		t.lists = make(map[string][]*http.Cookie)
	}
	if len(t.lists) < maxSendLists {
		t.lists[key] = cs
	}
	return cs
}
