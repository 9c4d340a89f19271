package haruntime

import (
	"fmt"
	"strings"
)

// tableOps are the comparison operators of `show table NAME data.TYPE OP
// VALUE`.
var tableOps = map[string]bool{"eq": true, "ne": true, "le": true, "ge": true, "lt": true, "gt": true}

// CheckCommand returns nil for a command this package may send, and an
// ErrNotAllowed error otherwise. Only these read-only forms pass:
//
//	show info | show version | show backend | show stat
//	show servers state [BACKEND]
//	show table [NAME [key KEY | data.TYPE OP VALUE]]
//
// A ';' (HAProxy's command separator), a backslash (its escape), a quote
// or a control character anywhere refuses the command, so an argument
// taken from elsewhere (a cookie value, a backend name) cannot smuggle a
// second command in.
func CheckCommand(cmd string) error {
	for i := 0; i < len(cmd); i++ {
		switch ch := cmd[i]; {
		case ch < 0x20 && ch != '\t', ch == 0x7f, ch == ';', ch == '\\', ch == '\'', ch == '"':
			return fmt.Errorf("%w: %q contains %q", ErrNotAllowed, cmd, ch)
		}
	}
	f := strings.Fields(cmd)
	if allowedFields(f) {
		return nil
	}
	return fmt.Errorf("%w: %q is not one of show info, show version, show backend, show stat, "+
		"show servers state [BACKEND], show table [NAME [key KEY | data.TYPE OP VALUE]]", ErrNotAllowed, cmd)
}

func allowedFields(f []string) bool {
	if len(f) < 2 || f[0] != "show" {
		return false
	}
	args := f[2:]
	switch f[1] {
	case "info", "version", "backend", "stat":
		return len(args) == 0
	case "servers":
		return len(args) >= 1 && args[0] == "state" && len(args) <= 2
	case "table":
		switch len(args) {
		case 0, 1:
			return true
		case 3:
			return args[1] == "key"
		case 4:
			return strings.HasPrefix(args[1], "data.") && len(args[1]) > 5 && tableOps[args[2]]
		}
	}
	return false
}
