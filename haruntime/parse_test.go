package haruntime

import (
	"errors"
	"strings"
	"testing"
)

// Replies as HAProxy 2.6.12 wrote them in the lab (trimmed where noted).
const (
	infoReply = "Name: HAProxy\nVersion: 2.6.12-1+deb12u3\nRelease_date: 2025/10/03\nNbthread: 2\nPid: 10200\n" +
		"Uptime: 0d 0h00m01s\nUptime_sec: 1\nnode: vm\nStopping: 0\nBuild info: 2.6.12-1+deb12u3\n\n"
	serversReply = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight " +
		"srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state " +
		"bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n" +
		"3 be_app 1 server1 127.0.0.1 0 0 1 1 4 6 3 4 6 0 0 0 - 18081 - 0 0 - - 0\n" +
		"3 be_app 2 server2 127.0.0.1 2 1 1 1 2 6 3 4 6 0 0 0 - 18082 - 0 0 - - 0\n\n"
	// show stat, columns up to cookie plus the tail of the real header.
	statHeader = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight," +
		"act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max," +
		"check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate," +
		"req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime," +
		"rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health," +
		"agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,\n"
	statReply = statHeader +
		"fe_main,FRONTEND,,,0,1,100,1,82,610,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,1,0,1,,,,0,1,0,0,0,0,,1,1,1,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,,\n" +
		"be_app,server1,0,0,0,0,,0,0,0,,0,,0,0,3,7,DOWN,1,1,0,4,2,5,9,,1,3,1,,0,,2,0,,0,L4CON,,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,\"Layer4 connection problem, refused\",,2,3,0,,,,127.0.0.1:18081,s1,http,,\n" +
		"be_app,server2,0,0,0,1,,1,82,610,,0,,0,0,0,0,UP,1,1,0,0,0,2,0,,1,3,2,,1,,2,1,,1,L4OK,,0,0,1,0,0,0,0,,,,1,0,0,,,,,1,,,0,0,1,1,,,,Layer4 check passed,,2,3,4,,,,127.0.0.1:18082,s2,http,,\n" +
		"be_app,BACKEND,0,0,0,1,10,1,82,610,0,0,,0,0,3,7,UP,2,2,0,,0,2,0,,1,3,0,,1,,1,1,,1,,,,0,1,0,0,0,0,,,,1,0,0,0,0,0,0,1,,,0,0,1,1,,,,,,,,,,,,,SERVERID,http,roundrobin,\n\n"
	tableReply = "# table: be_app, type: string, size:102400, used:2\n" +
		"0x5649940b1500: key=127.0.0.1 use=0 exp=599203 server_id=2 server_key=server2\n" +
		"0x5649940b1600: key=a\\ b\\=c\\x01 use=1 exp=5 server_id=1 server_key=server1 gpc0=3\n\n"
)

func TestParseInfo(t *testing.T) {
	in, err := ParseInfo(infoReply)
	if err != nil {
		t.Fatal(err)
	}
	want := Info{Name: "HAProxy", Version: "2.6.12-1+deb12u3", Pid: 10200, UptimeS: 1, Node: "vm"}
	if in != want {
		t.Fatalf("ParseInfo = %+v, want %+v", in, want)
	}
	for _, bad := range []string{"", "Pid: 1\n", "Name: HAProxy\n", "Name: HAProxy\nPid: x\n", "hello"} {
		if _, err := ParseInfo(bad); !errors.Is(err, ErrGarbage) {
			t.Errorf("ParseInfo(%q) = %v, want ErrGarbage", bad, err)
		}
	}
}

func TestParseServersState(t *testing.T) {
	ss, err := ParseServersState(serversReply)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 {
		t.Fatalf("%d servers, want 2: %+v", len(ss), ss)
	}
	s1, s2 := ss[0], ss[1]
	if s1.Backend != "be_app" || s1.Server != "server1" || s1.Port != 18081 || s1.SinceChangeS != 4 || s1.State() != "down" {
		t.Errorf("server1 = %+v (state %s)", s1, s1.State())
	}
	if s2.Server != "server2" || s2.OpState != OpRunning || s2.Admin != AdminForcedMaint || s2.State() != "maint" {
		t.Errorf("server2 = %+v (state %s)", s2, s2.State())
	}
	for _, bad := range []string{"", "2\n# be_id\n", "1\nbe_id be_name\n", "1\n# be_id be_name\n",
		strings.Replace(serversReply, " 0 0 1 1 4", " x 0 1 1 4", 1), strings.Replace(serversReply, "server1 127.0.0.1 0 0 1 1 4 6 3 4 6 0 0 0 - 18081 - 0 0 - - 0", "server1", 1)} {
		if _, err := ParseServersState(bad); !errors.Is(err, ErrGarbage) {
			t.Errorf("ParseServersState(%.50q) = %v, want ErrGarbage", bad, err)
		}
	}
}

func TestParseStat(t *testing.T) {
	rows, err := ParseStat(statReply)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4", len(rows))
	}
	s1 := rows[1]
	if s1.Name != "server1" || s1.Type != StatServer || s1.Status != "DOWN" || s1.Cookie != "s1" || s1.Wretr != 3 ||
		s1.Wredis != 7 || s1.ChkDown != 2 || s1.LastChgS != 5 || s1.DowntimeS != 9 || s1.CheckStatus != "L4CON" {
		t.Errorf("server1 = %+v", s1)
	}
	if rows[3].Type != StatBackend || rows[3].Cookie != "SERVERID" {
		t.Errorf("backend row = %+v", rows[3])
	}
	m := CookieMap(rows)
	if len(m) != 1 || m["be_app"]["s1"] != "server1" || m["be_app"]["s2"] != "server2" || len(m["be_app"]) != 2 {
		t.Errorf("CookieMap = %v", m)
	}
	for _, bad := range []string{"", "pxname,svname\n", "# pxname,svname\n", statHeader + "be_app,server1,0,0,0,0,,x\n"} {
		if _, err := ParseStat(bad); !errors.Is(err, ErrGarbage) {
			t.Errorf("ParseStat(%.50q) = %v, want ErrGarbage", bad, err)
		}
	}
}

func TestParseTables(t *testing.T) {
	ts, err := ParseTables(tableReply)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 || ts[0].Name != "be_app" || ts[0].Type != "string" || ts[0].Size != 102400 || ts[0].Used != 2 || len(ts[0].Entries) != 2 {
		t.Fatalf("ParseTables = %+v", ts)
	}
	e := ts[0].Entries[1]
	if e.Key != "a b=c\x01" || e.Use != 1 || e.ExpMS != 5 || e.ServerID != 1 || e.Server != "server1" || e.Data["gpc0"] != "3" {
		t.Errorf("entry = %+v", e)
	}
	denied := "# table: be_app, type: ip, size:1024, used:1\n# contents not dumped due to insufficient privileges\n\n"
	if _, err := ParseTables(denied); !errors.Is(err, ErrPermission) {
		t.Errorf("level user reply: %v, want ErrPermission", err)
	}
	for _, bad := range []string{"hello\n", "0x1: key=a\n", "# table: , type: ip\n", "# table: t, size:x\n",
		"# table: t, type: ip, size:1, used:1\n0x1: use=1\n", "# table: t, type: ip\n0x1: key=a use=z\n"} {
		if _, err := ParseTables(bad); !errors.Is(err, ErrGarbage) {
			t.Errorf("ParseTables(%q) = %v, want ErrGarbage", bad, err)
		}
	}
}
