package scenarios

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestParseSourceIPs(t *testing.T) {
	tests := []struct {
		in      string
		want    []string // the pool, in order; nil with wantErr
		wantErr string
	}{
		{in: "", want: nil},
		{in: "127.0.0.2", want: []string{"127.0.0.2"}},
		{in: "127.0.0.2-127.0.0.4", want: []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}},
		{in: " 127.0.0.9 , 127.0.0.2-127.0.0.3", want: []string{"127.0.0.9", "127.0.0.2", "127.0.0.3"}},
		{in: "127.0.0.2,127.0.0.2-127.0.0.3", want: []string{"127.0.0.2", "127.0.0.3"}}, // duplicates once
		{in: "127.0.0.255-127.0.1.1", want: []string{"127.0.0.255", "127.0.1.0", "127.0.1.1"}},
		{in: "::1", want: []string{"::1"}},
		{in: "[::1]", want: []string{"::1"}},
		{in: "fd00::fe-fd00::100", want: []string{"fd00::fe", "fd00::ff", "fd00::100"}},
		{in: "::ffff:127.0.0.5", want: []string{"127.0.0.5"}},
		{in: "127.0.0.5-127.0.0.5", want: []string{"127.0.0.5"}},
		{in: "127.0.0.x", wantErr: `"127.0.0.x" is not an IP address`},
		{in: "127.0.0.2,", wantErr: "empty item"},
		{in: "127.0.0.9-127.0.0.2", wantErr: "ends before it starts"},
		{in: "127.0.0.1-::1", wantErr: "mixes IPv4 and IPv6"},
		{in: "fe80::1%eth0", wantErr: "zones are not supported"},
		{in: "10.0.0.0-10.255.255.255", wantErr: "more than 65536 addresses"},
		{in: "::-::ffff:ffff", wantErr: "more than 65536 addresses"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSourceIPs(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "--source-ips") {
					t.Fatalf("ParseSourceIPs(%q) error %v, want one naming --source-ips with %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSourceIPs(%q): %v", tt.in, err)
			}
			var addrs []string
			for _, a := range got.Addrs {
				addrs = append(addrs, a.String())
			}
			if strings.Join(addrs, " ") != strings.Join(tt.want, " ") {
				t.Errorf("ParseSourceIPs(%q) = %v, want %v", tt.in, addrs, tt.want)
			}
			if got.String() != strings.TrimSpace(tt.in) {
				t.Errorf("String() = %q, want the input %q", got.String(), strings.TrimSpace(tt.in))
			}
		})
	}
}

func TestValidateTopology(t *testing.T) {
	pool := func(s string) SourceIPs {
		p, err := ParseSourceIPs(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		edit    func(*Spec)
		wantErr string
	}{
		{name: "defaults", edit: func(*Spec) {}},
		{name: "bad frontends", edit: func(s *Spec) { s.Frontends = "all" }, wantErr: "--frontends"},
		{name: "bad loss policy", edit: func(s *Spec) { s.OnBackendLoss = "" }, wantErr: "--on-backend-loss"},
		{name: "min backends", edit: func(s *Spec) { s.MinBackends = 3 }},
		{name: "min backends below -1", edit: func(s *Spec) { s.MinBackends = -2 }, wantErr: "--min-backends -2"},
		{name: "imbalance below 1", edit: func(s *Spec) { s.MaxImbalance = 0.9 }, wantErr: "--max-imbalance 0.9"},
		{name: "imbalance 1.5", edit: func(s *Spec) { s.MaxImbalance = 1.5 }},
		{name: "burst", edit: func(s *Spec) { s.Burst = 6 }},
		{name: "burst above concurrency", edit: func(s *Spec) { s.Burst = 6; s.Concurrency = 4 }, wantErr: "needs --concurrency 6 or more"},
		{name: "burst above requests", edit: func(s *Spec) { s.Burst = 6; s.Requests = 4 }, wantErr: "sends only 4 requests per session"},
		{name: "burst too large", edit: func(s *Spec) { s.Burst = MaxBurst + 1; s.Concurrency = 100 }, wantErr: "--burst 65"},
		{name: "source ips", edit: func(s *Spec) { s.SourceIPs = pool("127.0.0.2-127.0.0.9"); s.SourceMoveAfter = 3 }},
		{name: "move without pool", edit: func(s *Spec) { s.SourceMoveAfter = 3 }, wantErr: "at least two addresses"},
		{name: "move with one address", edit: func(s *Spec) { s.SourceIPs = pool("127.0.0.2"); s.SourceMoveAfter = 3 }, wantErr: "at least two addresses"},
		{name: "source with shared pool", edit: func(s *Spec) { s.SourceIPs = pool("127.0.0.2"); s.Conn = ConnShared }, wantErr: "--conn shared"},
		{name: "http2 with shared pool", edit: func(s *Spec) { s.HTTP2 = true; s.Conn = ConnShared }, wantErr: "--http2 with --conn shared"},
		{name: "IPv6 pool, IPv4 target", edit: func(s *Spec) {
			s.SourceIPs = pool("::1")
			s.Resolve = []Resolve{{Host: "lb.test", Port: 8080, Addr: "127.0.0.1"}}
		}, wantErr: "no address of the family of 127.0.0.1"},
		{name: "IPv4 pool, IPv4 target", edit: func(s *Spec) {
			s.SourceIPs = pool("127.0.0.2")
			s.Resolve = []Resolve{{Host: "lb.test", Port: 8080, Addr: "127.0.0.1"}}
		}},
		{name: "pool, unresolved name", edit: func(s *Spec) { s.SourceIPs = pool("::1") }}, // DNS decides; not known here
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec(t)
			tt.edit(&s)
			err := s.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

func TestNodes(t *testing.T) {
	mustURL := func(raw string) *url.URL {
		u, err := ParseURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	s := Default()
	s.URLs = []*url.URL{mustURL("http://shop.test:8080/"), mustURL("http://other.test/"), mustURL("https://Shop.test/")}
	s.Resolve = []Resolve{
		{Host: "shop.test", Port: 8080, Addr: "127.0.0.1"},
		{Host: "shop.test", Port: 8080, Addr: "127.0.0.2"},
		{Host: "shop.test", Port: 8080, Addr: "127.0.0.1"}, // repeated: one node
		{Host: "other.test", Port: 80, Addr: "127.0.0.3"},  // one address: the URL is one node
		{Host: "shop.test", Port: 443, Addr: "127.0.0.4"},
		{Host: "shop.test", Port: 443, Addr: "127.0.0.5"},
	}
	var got []string
	for _, n := range s.Nodes() {
		got = append(got, n.URL.String()+" "+n.Addr.String())
	}
	want := []string{
		"http://shop.test:8080/ 127.0.0.1", "http://shop.test:8080/ 127.0.0.2",
		"http://other.test/ invalid IP",
		"https://Shop.test/ 127.0.0.4", "https://Shop.test/ 127.0.0.5",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Nodes():\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func FuzzParseSourceIPs(f *testing.F) {
	for _, s := range []string{
		"127.0.0.2-127.0.0.60", "10.0.0.5,10.0.0.7", "::1", "fd00::1-fd00::ff", "[::1]-[::3]",
		"127.0.0.1-", "-", ",", "1.2.3.4-1.2.3.3", "::ffff:1.2.3.4", "fe80::1%lo",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseSourceIPs(s)
		if err != nil {
			if !strings.Contains(err.Error(), "--source-ips") {
				t.Errorf("ParseSourceIPs(%q) error %q does not name --source-ips", s, err)
			}
			return
		}
		if p.Len() > MaxSourceIPs {
			t.Fatalf("ParseSourceIPs(%q): %d addresses, above the cap", s, p.Len())
		}
		seen := make(map[netip.Addr]bool)
		for _, a := range p.Addrs {
			if !a.IsValid() || a.Zone() != "" || a.Is4In6() || seen[a] {
				t.Fatalf("ParseSourceIPs(%q) gave %v (valid %v, zone %q, duplicate %v)", s, a, a.IsValid(), a.Zone(), seen[a])
			}
			seen[a] = true
		}
		again, err := ParseSourceIPs(p.String())
		if err != nil || again.Len() != p.Len() {
			t.Fatalf("ParseSourceIPs(String()=%q) = %d addresses, %v; want %d", p.String(), again.Len(), err, p.Len())
		}
	})
}
