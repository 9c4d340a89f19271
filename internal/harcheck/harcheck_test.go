package harcheck

import (
	"strings"
	"testing"
)

const valid = `{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"pages":[
{"startedDateTime":"2025-03-14T03:07:00.000Z","id":"p1","title":"one","pageTimings":{"onContentLoad":-1,"onLoad":-1},"_x":1}],
"entries":[{"pageref":"p1","startedDateTime":"2025-03-14T03:07:00.001Z","time":3.5,
"request":{"method":"GET","url":"http://a.example/","httpVersion":"HTTP/1.1","cookies":[{"name":"a","value":"b"}],"headers":[],"queryString":[],"headersSize":-1,"bodySize":0},
"response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","cookies":[{"name":"s","value":"1","path":"/","httpOnly":true}],"headers":[{"name":"X","value":"y"}],"content":{"size":0,"mimeType":"text/plain"},"redirectURL":"","headersSize":-1,"bodySize":-1},
"cache":{},"timings":{"blocked":0.5,"dns":-1,"connect":1,"send":0,"wait":2,"receive":0,"ssl":-1},"serverIPAddress":"127.0.0.1","connection":"4242","_y":true}]}}`

func TestValidAccepted(t *testing.T) {
	log, err := Validate([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if len(log.Pages) != 1 || log.Pages[0].Custom["_x"] != 1.0 || len(log.Entries) != 1 || log.Entries[0].Pageref != "p1" {
		t.Errorf("parsed %+v", log)
	}
}

// Each broken variant must be rejected, naming the problem: a checker
// that accepts everything would let every HAR test pass.
func TestInvalidRejected(t *testing.T) {
	tests := []struct{ name, from, to, want string }{
		{"wrong version", `"version":"1.2"`, `"version":"1.1"`, "log.version"},
		{"no creator name", `"name":"t",`, ``, "creator.name"},
		{"negative wait", `"wait":2`, `"wait":-2`, "wait"},
		{"blocked below -1", `"blocked":0.5`, `"blocked":-3`, "blocked"},
		{"time not the sum", `"time":3.5`, `"time":9`, "not the sum"},
		{"status as string", `"status":200`, `"status":"200"`, "status"},
		{"missing cookies", `"cookies":[{"name":"a","value":"b"}],`, ``, "request.cookies"},
		{"header without value", `{"name":"X","value":"y"}`, `{"name":"X"}`, "headers[0].value"},
		{"bad date", `"startedDateTime":"2025-03-14T03:07:00.001Z"`, `"startedDateTime":"yesterday"`, "ISO 8601"},
		{"dangling pageref", `"pageref":"p1"`, `"pageref":"p2"`, "names no page"},
		{"unknown field", `"_y":true`, `"verdict":true`, "unknown field"},
		{"server IP not an IP", `"127.0.0.1"`, `"localhost"`, "serverIPAddress"},
		{"relative URL", `"http://a.example/"`, `"/x"`, "absolute URL"},
		{"no mimeType", `"mimeType":"text/plain"`, `"mime":"text/plain"`, "mimeType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(valid, tt.from) {
				t.Fatalf("fixture lacks %q", tt.from)
			}
			_, err := Validate([]byte(strings.Replace(valid, tt.from, tt.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
