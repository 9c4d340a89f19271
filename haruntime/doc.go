// Package haruntime reads HAProxy's Runtime API (the stats socket), so a
// probe run can set what it saw on the wire beside what the load balancer
// itself says: which servers went DOWN and came back UP, and when; which
// cookie value belongs to which server; how many requests HAProxy
// redispatched; what a stick table stored for a key.
//
// It only reads. Client refuses every command that is not on a short
// allow-list of `show` commands, and any command carrying a ';' (HAProxy
// runs several commands given on one line), a backslash (its escape
// character), a quote or a control character, so no caller can set, disable, clear, add, delete or shut
// anything down through it, even by mistake or from user input.
//
// Every exchange is bounded: a dial and a whole-reply timeout, and a
// reply size limit. Failures are one of a few sentinel errors
// (ErrUnreachable, ErrTimeout, ErrTooLarge, ErrGarbage, ErrPermission,
// ErrNotFound, ErrRefused) so a caller can say clearly what went wrong
// and never hangs on a socket that accepts but does not answer.
//
// The parsers (ParseInfo, ParseServersState, ParseStat, ParseTables) take
// the raw reply text and never panic; each has a fuzz target.
//
// Watcher polls a socket during a run (about once a second), keeps the
// state of every server and a bounded list of the changes it saw, and
// notices restarts (a new PID). Its Result answers the questions a report
// asks: when did this server go DOWN (DownAt), what outages were there
// (Outages), which server does this cookie value name (CookieMap), how
// many redispatches happened during the run (Redispatches). Outages and
// CookieMap can also be asked of the Watcher while it runs, which is how
// a run's backend-loss verdict hears HAProxy's word as it happens.
package haruntime
