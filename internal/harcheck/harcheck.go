// Package harcheck validates the structure of a HAR 1.2 file the way the
// viewers that open it expect: every required field present with its
// type, timings non-negative (-1 only where the spec allows "does not
// apply"), entry time the sum of its timings, page references that
// resolve, and custom fields prefixed with an underscore. It exists for
// stickyprobe's tests; the spec is
// http://www.softwareishard.com/blog/har-12-spec/.
package harcheck

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/url"
	"strings"
	"time"
)

// Log is what a test needs of a valid HAR.
type Log struct {
	Pages   []Page
	Entries []Entry
}

// Page is one page with its custom fields.
type Page struct {
	ID     string
	Title  string
	Custom map[string]any // "_stickyprobe" and the like
}

// Entry is one entry, decoded loosely.
type Entry struct {
	Pageref string
	Raw     map[string]any
}

type obj = map[string]any

// Validate checks data and returns its pages and entries.
func Validate(data []byte) (*Log, error) {
	var root obj
	if err := json.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	c := &checker{}
	log := c.object(root, "log", "")
	if log == nil {
		return nil, c.err()
	}
	c.fields(log, "log", "version", "creator", "browser", "pages", "entries", "comment")
	if v := c.str(log, "version", "log"); v != "1.2" {
		c.fail("log.version %q, want 1.2", v)
	}
	if cr := c.object(log, "creator", "log"); cr != nil {
		c.fields(cr, "log.creator", "name", "version", "comment")
		c.str(cr, "name", "log.creator")
		c.str(cr, "version", "log.creator")
	}
	out := &Log{}
	ids := map[string]bool{}
	for i, p := range c.array(log, "pages", "log") {
		where := fmt.Sprintf("log.pages[%d]", i)
		po, ok := p.(obj)
		if !ok {
			c.fail("%s: not an object", where)
			continue
		}
		c.fields(po, where, "startedDateTime", "id", "title", "pageTimings", "comment")
		c.date(po, "startedDateTime", where)
		id := c.str(po, "id", where)
		if ids[id] {
			c.fail("%s: duplicate id %q", where, id)
		}
		ids[id] = true
		if pt := c.object(po, "pageTimings", where); pt != nil {
			c.fields(pt, where+".pageTimings", "onContentLoad", "onLoad", "comment")
			for _, k := range []string{"onContentLoad", "onLoad"} {
				if v, ok := pt[k]; ok {
					if n, ok := v.(float64); !ok || n < -1 {
						c.fail("%s.pageTimings.%s = %v, want a number >= -1", where, k, v)
					}
				}
			}
		}
		out.Pages = append(out.Pages, Page{ID: id, Title: c.str(po, "title", where), Custom: custom(po)})
	}
	for i, e := range c.array(log, "entries", "log") {
		where := fmt.Sprintf("log.entries[%d]", i)
		eo, ok := e.(obj)
		if !ok {
			c.fail("%s: not an object", where)
			continue
		}
		ref := c.entry(eo, where)
		if _, has := eo["pageref"]; has && !ids[ref] {
			c.fail("%s: pageref %q names no page", where, ref)
		}
		out.Entries = append(out.Entries, Entry{Pageref: ref, Raw: eo})
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	return out, nil
}

func custom(o obj) map[string]any {
	m := map[string]any{}
	for k, v := range o {
		if strings.HasPrefix(k, "_") {
			m[k] = v
		}
	}
	return m
}

type checker struct{ problems []string }

func (c *checker) fail(format string, a ...any) {
	if len(c.problems) < 20 {
		c.problems = append(c.problems, fmt.Sprintf(format, a...))
	}
}

func (c *checker) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return fmt.Errorf("invalid HAR:\n  %s", strings.Join(c.problems, "\n  "))
}

// fields rejects keys the spec does not name unless they are custom
// ("_name").
func (c *checker) fields(o obj, where string, allowed ...string) {
	for k := range o {
		if strings.HasPrefix(k, "_") {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			c.fail("%s: unknown field %q (custom fields start with _)", where, k)
		}
	}
}

func (c *checker) object(o obj, key, where string) obj {
	v, ok := o[key].(obj)
	if !ok {
		c.fail("%s.%s: missing or not an object", where, key)
		return nil
	}
	return v
}

func (c *checker) array(o obj, key, where string) []any {
	v, ok := o[key].([]any)
	if !ok {
		c.fail("%s.%s: missing or not an array", where, key)
	}
	return v
}

func (c *checker) str(o obj, key, where string) string {
	v, ok := o[key].(string)
	if !ok {
		c.fail("%s.%s: missing or not a string", where, key)
	}
	return v
}

func (c *checker) num(o obj, key, where string) float64 {
	v, ok := o[key].(float64)
	if !ok {
		c.fail("%s.%s: missing or not a number", where, key)
		return math.NaN()
	}
	return v
}

func (c *checker) date(o obj, key, where string) {
	s := c.str(o, key, where)
	if _, err := time.Parse(time.RFC3339Nano, s); s != "" && err != nil {
		c.fail("%s.%s = %q: not an ISO 8601 date: %v", where, key, s, err)
	}
}

func (c *checker) optStr(o obj, key, where string) {
	if v, has := o[key]; has {
		if _, ok := v.(string); !ok {
			c.fail("%s.%s: not a string", where, key)
		}
	}
}

func (c *checker) nameValues(o obj, key, where string) {
	for i, h := range c.array(o, key, where) {
		w := fmt.Sprintf("%s.%s[%d]", where, key, i)
		ho, ok := h.(obj)
		if !ok {
			c.fail("%s: not an object", w)
			continue
		}
		c.fields(ho, w, "name", "value", "comment")
		c.str(ho, "name", w)
		c.str(ho, "value", w)
	}
}

func (c *checker) cookies(o obj, where string) {
	for i, ck := range c.array(o, "cookies", where) {
		w := fmt.Sprintf("%s.cookies[%d]", where, i)
		co, ok := ck.(obj)
		if !ok {
			c.fail("%s: not an object", w)
			continue
		}
		c.fields(co, w, "name", "value", "path", "domain", "expires", "httpOnly", "secure", "comment")
		c.str(co, "name", w)
		c.str(co, "value", w)
		for _, k := range []string{"path", "domain"} {
			c.optStr(co, k, w)
		}
		if _, has := co["expires"]; has {
			c.date(co, "expires", w)
		}
		for _, k := range []string{"httpOnly", "secure"} {
			if v, has := co[k]; has {
				if _, ok := v.(bool); !ok {
					c.fail("%s.%s: not a boolean", w, k)
				}
			}
		}
	}
}

func (c *checker) entry(e obj, where string) string {
	c.fields(e, where, "pageref", "startedDateTime", "time", "request", "response", "cache", "timings",
		"serverIPAddress", "connection", "comment")
	ref := ""
	if _, has := e["pageref"]; has {
		ref = c.str(e, "pageref", where)
	}
	c.date(e, "startedDateTime", where)
	total := c.num(e, "time", where)
	if total < 0 {
		c.fail("%s.time = %v, want >= 0", where, total)
	}
	if req := c.object(e, "request", where); req != nil {
		w := where + ".request"
		c.fields(req, w, "method", "url", "httpVersion", "cookies", "headers", "queryString", "postData", "headersSize", "bodySize", "comment")
		c.str(req, "method", w)
		if u, err := url.Parse(c.str(req, "url", w)); err != nil || !u.IsAbs() {
			c.fail("%s.url: not an absolute URL", w)
		}
		c.str(req, "httpVersion", w)
		c.cookies(req, w)
		c.nameValues(req, "headers", w)
		c.nameValues(req, "queryString", w)
		c.num(req, "headersSize", w)
		c.num(req, "bodySize", w)
	}
	if resp := c.object(e, "response", where); resp != nil {
		w := where + ".response"
		c.fields(resp, w, "status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL", "headersSize", "bodySize", "comment")
		if s := c.num(resp, "status", w); s != 0 && (s < 100 || s > 999) {
			c.fail("%s.status = %v", w, s)
		}
		c.str(resp, "statusText", w)
		c.str(resp, "httpVersion", w)
		c.cookies(resp, w)
		c.nameValues(resp, "headers", w)
		if ct := c.object(resp, "content", w); ct != nil {
			c.fields(ct, w+".content", "size", "compression", "mimeType", "text", "encoding", "comment")
			c.num(ct, "size", w+".content")
			c.str(ct, "mimeType", w+".content")
		}
		c.str(resp, "redirectURL", w)
		c.num(resp, "headersSize", w)
		c.num(resp, "bodySize", w)
	}
	c.object(e, "cache", where)
	if t := c.object(e, "timings", where); t != nil {
		w := where + ".timings"
		c.fields(t, w, "blocked", "dns", "connect", "send", "wait", "receive", "ssl", "comment")
		sum := 0.0
		for _, k := range []string{"send", "wait", "receive"} {
			v := c.num(t, k, w)
			if v < 0 {
				c.fail("%s.%s = %v, want >= 0", w, k, v)
			}
			sum += max(v, 0)
		}
		for _, k := range []string{"blocked", "dns", "connect", "ssl"} {
			v, has := t[k]
			if !has {
				continue
			}
			n, ok := v.(float64)
			if !ok || (n < 0 && n != -1) {
				c.fail("%s.%s = %v, want >= 0 or -1 (does not apply)", w, k, v)
			}
			if k != "ssl" && n > 0 {
				sum += n // ssl is included in connect
			}
		}
		if math.Abs(sum-total) > 0.01 {
			c.fail("%s: time %v is not the sum of the timings %v", where, total, sum)
		}
	}
	if v, has := e["serverIPAddress"]; has {
		if s, ok := v.(string); !ok || net.ParseIP(s) == nil {
			c.fail("%s.serverIPAddress = %v: not an IP address", where, v)
		}
	}
	c.optStr(e, "connection", where)
	return ref
}
