// Package hacheck reads HAProxy configs (with hacfg) and reports what in
// them breaks session persistence: each Finding names the file and line,
// the backend and servers it is about, the cause a probe run will show
// (report's cause words), and the fix. It also runs `haproxy -c` when the
// binary is there and reports HAProxy's own warnings beside its findings.
//
// What the findings say HAProxy does was measured against HAProxy 2.6.12
// (see measure_test.go): servers without a cookie value get the cookie
// expired on every response, `postonly` never pins a GET, `maxidle`
// rebalances an idle user with a new cookie, `nocache` is what marks a
// cacheable response private, map-based hashing moves users of healthy
// servers when one goes down.
//
// Explain joins findings to a probe report: it adds the findings behind
// each cause to that cause's hint, and Route says which backend served a
// URL, following frontend, ACL and use_backend as far as that can be
// decided without traffic.
package hacheck
