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
// depend on the cookies and the URL, and its clock only decides whether
// an entry with an expiry has expired. So as long as every cookie stored
// has no future expiry (a session cookie, or one already expired, which
// deletes), the record of the calls is the jar: replayed into a new
// cookiejar.Jar at any later time it answers exactly as the original
// would. Entries are created in the order of the calls either way, and
// that order (with the path length) is what orders the Cookie header.
//
// So the session keeps the calls (ops), and what the jar sends to its
// frontend, computed once per change by replaying them into a throwaway
// cookiejar.Jar. The first cookie with a future expiry (Max-Age > 0, or
// Expires later than now) turns the record into a live cookiejar.Jar,
// replayed from ops, which from then on is used exactly as before. So is
// a record that grew past maxOps.
type jar struct {
	ops   []cookieOp
	live  *cookiejar.Jar // nil while ops is the jar
	lists *sendLists     // shares send among the run's sessions

	sendURL *url.URL
	send    []*http.Cookie // what the jar sends to sendURL; read-only
	fresh   bool           // send is up to date with ops
}

// cookieOp is one SetCookies call: the URL and the Set-Cookie lines of a
// response, which it parses again on replay as Response.Cookies did.
type cookieOp struct {
	u     *url.URL
	lines []string
}

// maxOps bounds the record: a session whose responses keep setting
// different cookies gets a live jar instead.
const maxOps = 8

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
		j.send, j.sendURL, j.fresh = j.lists.intern(j.replay().Cookies(u)), u, true
	}
	return j.send
}

// setCookies stores a response's cookies, as Jar.SetCookies(u, cookies):
// lines are the response's Set-Cookie lines, cookies what
// Response.Cookies parsed of them, now the time of the response.
func (j *jar) setCookies(u *url.URL, lines []string, cookies []*http.Cookie, now time.Time) {
	if len(cookies) == 0 {
		return // SetCookies does nothing
	}
	if j.live == nil && timeless(cookies, now) {
		if n := len(j.ops); n > 0 && j.ops[n-1].u == u && slices.Equal(j.ops[n-1].lines, lines) {
			// The same timeless cookies again change nothing: every
			// entry gets the value it has, and keeps its creation time.
			return
		}
		if len(j.ops) < maxOps {
			// A copy: the record must not see what may later be done
			// to the response's header (redaction, say).
			j.ops = append(j.ops, cookieOp{u: u, lines: slices.Clone(lines)})
			j.fresh = false
			return
		}
	}
	if j.live == nil {
		j.live = j.replay()
		j.ops, j.send, j.fresh = nil, nil, false
	}
	j.live.SetCookies(u, cookies)
}

// replay is a new cookiejar.Jar that got the recorded calls.
func (j *jar) replay() *cookiejar.Jar {
	cj := newCookieJar()
	for _, op := range j.ops {
		resp := http.Response{Header: http.Header{"Set-Cookie": op.lines}}
		cj.SetCookies(op.u, resp.Cookies())
	}
	return cj
}

// timeless reports whether storing cookies at now has the same effect at
// any later time: none has an expiry in the future. (Max-Age < 0 and an
// Expires at or before now delete, whenever they are applied.)
func timeless(cookies []*http.Cookie, now time.Time) bool {
	for _, c := range cookies {
		switch {
		case c.MaxAge > 0:
			return false
		case c.MaxAge == 0 && !c.Expires.IsZero() && c.Expires.After(now):
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
	if t == nil || len(cs) == 0 {
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
