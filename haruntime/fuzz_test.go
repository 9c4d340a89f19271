package haruntime

import (
	"errors"
	"testing"
)

// Each parser takes whatever a socket sent: it must return rows or one of
// the sentinel errors, never panic.

func checkParseErr(t *testing.T, err error) {
	if err != nil && !errors.Is(err, ErrGarbage) && !errors.Is(err, ErrPermission) {
		t.Fatalf("error %v is not ErrGarbage or ErrPermission", err)
	}
}

func FuzzParseInfo(f *testing.F) {
	f.Add(infoReply)
	f.Add("Name: x\nPid: 99999999999999999999\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, err := ParseInfo(s)
		checkParseErr(t, err)
	})
}

func FuzzParseServersState(f *testing.F) {
	f.Add(serversReply)
	f.Add("1\n# be_id\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		ss, err := ParseServersState(s)
		checkParseErr(t, err)
		for _, x := range ss {
			_ = x.State()
		}
	})
}

func FuzzParseStat(f *testing.F) {
	f.Add(statReply)
	f.Add(statHeader + "\"a,b\",\"x\n")
	f.Fuzz(func(t *testing.T, s string) {
		rows, err := ParseStat(s)
		checkParseErr(t, err)
		_ = CookieMap(rows)
	})
}

func FuzzParseTables(f *testing.F) {
	f.Add(tableReply)
	f.Add("# table: t, type: ip, size:1, used:1\n0x1: key=\\x4 use=1 a=\\\n")
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTables(s)
		checkParseErr(t, err)
		for _, tb := range ts {
			for _, e := range tb.Entries {
				if len(e.Data) > maxTableData {
					t.Fatalf("%d data fields kept", len(e.Data))
				}
			}
		}
	})
}

func FuzzCheckCommand(f *testing.F) {
	f.Add("show table be_app key 127.0.0.1")
	f.Add("show info; disable server a/b")
	f.Fuzz(func(t *testing.T, s string) {
		if CheckCommand(s) != nil {
			return
		}
		for i := 0; i < len(s); i++ {
			if s[i] == ';' || s[i] == '\\' || s[i] == '\n' {
				t.Fatalf("%q passed with %q", s, s[i])
			}
		}
		if len(s) < 4 {
			t.Fatalf("%q passed", s)
		}
	})
}
