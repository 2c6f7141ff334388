//go:build !js && !wasip1

package bridge

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	full := func(r Rule) Rule { r.Low, r.High = 1, 65535; return r }
	ok := []struct {
		in   string
		want Rule
	}{
		{"*", full(Rule{Any: true})},
		{"*:443", Rule{Any: true, Low: 443, High: 443}},
		{"*:*", full(Rule{Any: true})},
		{"1.2.3.4:80", Rule{Prefix: netip.MustParsePrefix("1.2.3.4/32"), Low: 80, High: 80}},
		{"1.2.3.4", full(Rule{Prefix: netip.MustParsePrefix("1.2.3.4/32")})},
		{"10.0.0.0/8:1-1024", Rule{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Low: 1, High: 1024}},
		{"10.1.2.3/8", full(Rule{Prefix: netip.MustParsePrefix("10.0.0.0/8")})}, // masked
		{"[::1]:22", Rule{Prefix: netip.MustParsePrefix("::1/128"), Low: 22, High: 22}},
		{"[::1]", full(Rule{Prefix: netip.MustParsePrefix("::1/128")})},
		{"[fd00::/8]", full(Rule{Prefix: netip.MustParsePrefix("fd00::/8")})},
		{"[fd00::/8]:7000-7010", Rule{Prefix: netip.MustParsePrefix("fd00::/8"), Low: 7000, High: 7010}},
		{"::1", full(Rule{Prefix: netip.MustParsePrefix("::1/128")})}, // bare IPv6: no port
		{"mail.example", full(Rule{Host: "mail.example"})},
		{"Mail.Example.:25", Rule{Host: "mail.example", Low: 25, High: 25}},
		{"localhost", full(Rule{Host: "localhost"})},
		{"*.example.com", full(Rule{Suffix: ".example.com"})},
		{"*.example.com:443", Rule{Suffix: ".example.com", Low: 443, High: 443}},
		{"1.2.3.4:65535", Rule{Prefix: netip.MustParsePrefix("1.2.3.4/32"), Low: 65535, High: 65535}},
		{"1.2.3.4:5-5", Rule{Prefix: netip.MustParsePrefix("1.2.3.4/32"), Low: 5, High: 5}},
	}
	for _, c := range ok {
		r, err := ParseRule(c.in)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", c.in, err)
			continue
		}
		if r.String() != c.in {
			t.Errorf("ParseRule(%q).String() = %q", c.in, r.String())
		}
		r.text = ""
		if r != c.want {
			t.Errorf("ParseRule(%q) = %+v, want %+v", c.in, r, c.want)
		}
	}

	bad := []struct{ in, why string }{
		{"", "no host"},
		{":80", "no host"},
		{"1.2.3.4:0", "bad port range"},
		{"1.2.3.4:80-70", "bad port range"},
		{"1.2.3.4:65536", "bad port range"},
		{"1.2.3.4:-5", "bad port range"},
		{"1.2.3.4:5-", "bad port range"},
		{"1.2.3.4:http", "bad port range"},
		{"1.2.3.4:1-2-3", "bad port range"},
		{"1.2.3.4:", "bad port range"},
		{"*:", "bad port range"},
		{"[::1]:", "bad port range"},
		{"[::1", "missing ]"},
		{"[::1:22", "missing ]"},
		{"[::1]22", "want :PORTS"},
		{"[::1]]:22", "want :PORTS"},
		{"10.0.0.0/33", ""},
		{"[fd00::/129]", ""},
		{"bad host!", "neither an address nor a host name"},
		{"-bad.example", "neither an address nor a host name"},
		{"a..b", "neither an address nor a host name"},
		{"*.bad!", "bad domain"},
		{"*example.com", "neither"},
		{"1.2.3.4/8/8", ""},
	}
	for _, c := range bad {
		r, err := ParseRule(c.in)
		if err == nil {
			t.Errorf("ParseRule(%q) = %+v, want an error", c.in, r)
			continue
		}
		if !strings.Contains(err.Error(), c.why) {
			t.Errorf("ParseRule(%q): %v, want it to say %q", c.in, err, c.why)
		}
	}
}

func TestParseRules(t *testing.T) {
	rules, err := ParseRules(" 127.0.0.1/32:7000 , *.example.com,,[::1]:22 ")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rules {
		got = append(got, r.String())
	}
	if strings.Join(got, "|") != "127.0.0.1/32:7000|*.example.com|[::1]:22" {
		t.Fatalf("ParseRules: %q", got)
	}
	if _, err := ParseRules("*, 1.2.3.4:0"); err == nil {
		t.Fatal("ParseRules accepted a bad rule in a list")
	}
}

func policy(t *testing.T, allow, deny string) *Policy {
	t.Helper()
	var p Policy
	var err error
	if p.Allow, err = ParseRules(allow); err != nil {
		t.Fatal(err)
	}
	if p.Deny, err = ParseRules(deny); err != nil {
		t.Fatal(err)
	}
	return &p
}

// check runs one case of Policy.Check. host "" means the CONNECT named
// the address itself.
func check(t *testing.T, p *Policy, host, addr string, port uint16, want bool) {
	t.Helper()
	ip := netip.MustParseAddr(addr)
	if host == "" {
		host = addr
	}
	d := p.Check(host, ip, port)
	if d.Allowed != want {
		t.Errorf("Check(%q, %v, %d) = %v (%s), want %v", host, ip, port, d.Allowed, d.Why, want)
	}
	if d.Why == "" {
		t.Errorf("Check(%q, %v, %d) gives no reason", host, ip, port)
	}
}

func TestPolicyZeroRefusesEverything(t *testing.T) {
	var p Policy
	for _, a := range []string{"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "127.0.0.1", "10.0.0.1"} {
		check(t, &p, "", a, 443, false)
		check(t, &p, "example.com", a, 443, false)
	}
}

// Addresses in special ranges, in every form that leads to them. The "*"
// rule and a broad CIDR must not open any of them.
var specialAddrs = []string{
	"127.0.0.1", "127.255.255.254", // loopback
	"0.0.0.0", "0.1.2.3", // this network
	"10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", // private
	"100.64.0.1",                     // CGNAT
	"169.254.169.254", "169.254.0.1", // link-local, cloud metadata
	"168.63.129.16",          // Azure wire server
	"192.0.0.1", "192.0.2.1", // IETF, documentation
	"198.18.0.1", "198.51.100.1", "203.0.113.1", // benchmarking, documentation
	"224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
	"::", "::1", "fe80::1", "fec0::1", "ff02::1",
	"fd00::1", "fc00::1", "fd12:3456:789a::1", // unique local
	"2001:db8::1", "100::1",
	"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", // IPv4-mapped
	"::127.0.0.1", "::10.0.0.1", // IPv4-compatible
	"2002:7f00:1::1", "2002:a00:1::", "2002:a9fe:a9fe::1", // 6to4 of loopback, private, metadata
	"2001:0:4136:e378:8000:63bf:80ff:fffe",                    // Teredo, client 127.0.0.1
	"2001:0:4136:e378:8000:63bf:f5ff:fffe",                    // Teredo, client 10.0.0.1
	"2001:0:a00:1::1",                                         // Teredo, server 10.0.0.1
	"64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b::a9fe:a9fe", // NAT64
	"64:ff9b:1::7f00:1", // local-use NAT64
}

var publicAddrs = []string{
	"8.8.8.8", "1.1.1.1", "93.184.216.34",
	"2606:4700:4700::1111", "2a00:1450:4001:80b::200e",
	"::ffff:8.8.8.8",                       // mapped public
	"2002:808:808::1",                      // 6to4 of 8.8.8.8
	"64:ff9b::808:808",                     // NAT64 of 8.8.8.8
	"2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo, client 8.8.8.8
}

func TestPolicyStarKeepsSpecialRanges(t *testing.T) {
	for _, allow := range []string{"*", "0.0.0.0/0,[::/0]", "*:1-65535", "0.0.0.0/1,128.0.0.0/1,[::/1],[8000::/1]", "[::ffff:0:0/96]"} {
		t.Run(allow, func(t *testing.T) {
			p := policy(t, allow, "")
			for _, a := range specialAddrs {
				check(t, p, "", a, 443, false)
				check(t, p, "innocent.example", a, 443, false) // a name that resolved there
			}
			if allow == "[::ffff:0:0/96]" {
				return // covers no public address outside the mapped range
			}
			for _, a := range publicAddrs {
				check(t, p, "", a, 443, true)
			}
		})
	}
}

func TestPolicyRuleInsideSpecialRangeOpensIt(t *testing.T) {
	p := policy(t, "127.0.0.1/32:7000,[::1]:22,10.1.0.0/16,169.254.169.254/32:80,[fd00::/8]:443", "")
	check(t, p, "", "127.0.0.1", 7000, true)
	check(t, p, "", "::ffff:127.0.0.1", 7000, true) // the same address, mapped
	check(t, p, "", "127.0.0.1", 7001, false)       // port outside the rule
	check(t, p, "", "127.0.0.2", 7000, false)       // address outside the rule
	check(t, p, "", "::1", 22, true)
	check(t, p, "", "::1", 23, false)
	check(t, p, "", "10.1.2.3", 5432, true)
	check(t, p, "", "10.2.0.1", 5432, false)
	check(t, p, "", "169.254.169.254", 80, true)
	check(t, p, "", "169.254.169.254", 443, false)
	check(t, p, "", "fd00::1", 443, true)
	check(t, p, "", "fd00::1", 80, false)
	check(t, p, "", "fc00::1", 443, false) // fc00::/7 is ULA, but not inside fd00::/8
	check(t, p, "", "8.8.8.8", 443, false) // none of these rules covers it
}

// A CIDR that covers a special range and more does not open it: only a
// rule inside the range names it.
func TestPolicyBroadCIDRDoesNotOpen(t *testing.T) {
	p := policy(t, "0.0.0.0/0,[::/0],127.0.0.0/7,10.0.0.0/7,[fc00::/6]", "")
	for _, a := range []string{"127.0.0.1", "10.0.0.1", "fd00::1", "::1"} {
		check(t, p, "", a, 80, false)
	}
	check(t, p, "", "126.0.0.1", 80, true) // in 127.0.0.0/7 but not special
	check(t, p, "", "11.0.0.1", 80, true)  // in 10.0.0.0/7 but not special
}

// A host-name rule opens special ranges for that exact name only: the
// operator wrote it down.
func TestPolicyHostRule(t *testing.T) {
	p := policy(t, "db.internal:5432,*.corp.example", "")
	check(t, p, "db.internal", "10.0.0.5", 5432, true)
	check(t, p, "DB.Internal.", "10.0.0.5", 5432, true) // case and root dot
	check(t, p, "db.internal", "10.0.0.5", 5433, false)
	check(t, p, "other.internal", "10.0.0.5", 5432, false)
	check(t, p, "xdb.internal", "10.0.0.5", 5432, false)
	check(t, p, "", "10.0.0.5", 5432, false) // the address itself is not the name
	check(t, p, "a.corp.example", "127.0.0.1", 80, true)
	check(t, p, "a.b.corp.example", "192.168.0.1", 80, true)
	check(t, p, "corp.example", "127.0.0.1", 80, false) // *.x does not cover x
	check(t, p, "evilcorp.example", "127.0.0.1", 80, false)
	check(t, p, "a.corp.example.evil", "127.0.0.1", 80, false)
}

func TestPolicyDenyWins(t *testing.T) {
	p := policy(t, "*,127.0.0.1/32,*.example.com", "8.8.8.0/24,127.0.0.1/32:22,bad.example.com,*:25,[2606:4700::/32]")
	check(t, p, "", "8.8.8.8", 443, false)
	check(t, p, "", "8.8.4.4", 443, true)
	check(t, p, "", "::ffff:8.8.8.8", 443, false) // the mapped form is denied too
	check(t, p, "", "127.0.0.1", 22, false)
	check(t, p, "", "127.0.0.1", 80, true)
	check(t, p, "bad.example.com", "93.184.216.34", 443, false)
	check(t, p, "good.example.com", "93.184.216.34", 443, true)
	check(t, p, "", "1.1.1.1", 25, false)
	check(t, p, "", "2606:4700:4700::1111", 443, false)
	check(t, p, "", "2606:4700:4700::1111%eth0", 443, false) // a zone hides nothing
	check(t, p, "", "2a00:1450::1", 443, true)
}

func TestPolicyPortRanges(t *testing.T) {
	p := policy(t, "*:80,*:443,*:7000-7010,127.0.0.1/32:8000-8001", "")
	for port, want := range map[uint16]bool{1: false, 79: false, 80: true, 81: false, 443: true, 6999: false, 7000: true, 7005: true, 7010: true, 7011: false, 65535: false} {
		check(t, p, "", "8.8.8.8", port, want)
	}
	for port, want := range map[uint16]bool{7999: false, 8000: true, 8001: true, 8002: false, 80: false} {
		check(t, p, "", "127.0.0.1", port, want)
	}
}

// Rules written in IPv4-mapped form mean the IPv4 addresses: the bridge
// dials, and checks, unmapped addresses.
func TestPolicyMappedRule(t *testing.T) {
	p := policy(t, "[::ffff:127.0.0.1]:7000", "")
	check(t, p, "", "127.0.0.1", 7000, true)
	check(t, p, "", "::ffff:127.0.0.1", 7000, true)
	check(t, p, "", "127.0.0.2", 7000, false)

	p = policy(t, "*", "[::ffff:8.8.8.8]")
	check(t, p, "", "8.8.8.8", 443, false)
	check(t, p, "", "::ffff:8.8.8.8", 443, false)
	check(t, p, "", "8.8.4.4", 443, true)
}

// Odd spellings of special addresses, through the bridge's own parsing of
// a CONNECT host: each is refused by default and allowed by a rule that
// names the address.
func TestPolicyOddSpellings(t *testing.T) {
	cases := []struct {
		host string
		want string // the address it means
		rule string // a rule that names it
	}{
		{"127.0.0.1", "127.0.0.1", "127.0.0.1/32"},
		{"2130706433", "127.0.0.1", "127.0.0.1/32"},
		{"0177.0.0.1", "127.0.0.1", "127.0.0.1/32"},
		{"0177.0000.0000.0001", "127.0.0.1", "127.0.0.1/32"},
		{"0x7f.0.0.1", "127.0.0.1", "127.0.0.1/32"},
		{"0X7F.0x0.0x0.0x1", "127.0.0.1", "127.0.0.1/32"},
		{"127.1", "127.0.0.1", "127.0.0.1/32"},
		{"127.0.1", "127.0.0.1", "127.0.0.1/32"},
		{"0x7f000001", "127.0.0.1", "127.0.0.1/32"},
		{"017700000001", "127.0.0.1", "127.0.0.1/32"},
		{"0x7f.1", "127.0.0.1", "127.0.0.1/32"},
		{"127.0.0.01", "127.0.0.1", "127.0.0.1/32"},
		{"[::ffff:127.0.0.1]", "127.0.0.1", "127.0.0.1/32"},
		{"::ffff:127.0.0.1", "127.0.0.1", "127.0.0.1/32"},
		{"::ffff:7f00:1", "127.0.0.1", "127.0.0.1/32"},
		{"[::1]", "::1", "[::1]"},
		{"0:0:0:0:0:0:0:1", "::1", "[::1]"},
		{"0.0.0.0", "0.0.0.0", "0.0.0.0/32"},
		{"0", "0.0.0.0", "0.0.0.0/32"},
		{"169.254.169.254", "169.254.169.254", "169.254.169.254/32"},
		{"2852039166", "169.254.169.254", "169.254.169.254/32"},
		{"0xa9.0xfe.0xa9.0xfe", "169.254.169.254", "169.254.169.254/32"},
		{"0251.0376.0251.0376", "169.254.169.254", "169.254.169.254/32"},
		{"169.254.43518", "169.254.169.254", "169.254.169.254/32"},
		{"10.1", "10.0.0.1", "10.0.0.0/8"},
		{"fd00::1", "fd00::1", "[fd00::/8]"},
		{"[fd00::1]", "fd00::1", "[fd00::/8]"},
		{"FD00::0001", "fd00::1", "[fd00::/8]"},
		{"[fe80::1%lo]", "fe80::1%lo", "[fe80::/10]"},
	}
	for _, c := range cases {
		t.Run(c.host, func(t *testing.T) {
			ip, err := parseHost(c.host)
			if err != nil || !ip.IsValid() {
				t.Fatalf("parseHost(%q) = %v, %v; want the address %s", c.host, ip, err, c.want)
			}
			// The bridge judges the unmapped address, as dial does.
			ip = ip.Unmap()
			if want := netip.MustParseAddr(c.want); ip != want {
				t.Fatalf("parseHost(%q) = %v, want %v", c.host, ip, want)
			}
			if d := policy(t, "*", "").Check(c.host, ip, 80); d.Allowed {
				t.Errorf("%q (%v) allowed under \"*\": %s", c.host, ip, d.Why)
			}
			if d := policy(t, "", "").Check(c.host, ip, 80); d.Allowed {
				t.Errorf("%q (%v) allowed with no rules: %s", c.host, ip, d.Why)
			}
			if d := policy(t, "*,"+c.rule, "").Check(c.host, ip, 80); !d.Allowed {
				t.Errorf("%q (%v) refused under %q: %s", c.host, ip, c.rule, d.Why)
			}
		})
	}
}

// Hosts that are not addresses are names to resolve, or invalid.
func TestParseHostNames(t *testing.T) {
	for _, h := range []string{"example.com", "localhost", "a-b.c_d.example", "127.0.0.256", "1.2.3.4.5", "0x", "08.1.2.3", "example.com."} {
		ip, err := parseHost(h)
		if err != nil || ip.IsValid() {
			t.Errorf("parseHost(%q) = %v, %v; want a name to resolve", h, ip, err)
		}
	}
	for _, h := range []string{"", "bad host", "a..b", "-a.example", "127.0.0.1%eth0", "a/b", "x\x00y", strings.Repeat("a", 64) + ".example"} {
		if ip, err := parseHost(h); err == nil {
			t.Errorf("parseHost(%q) = %v, want an error", h, ip)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, a := range specialAddrs {
		if classify(netip.MustParseAddr(a)) == "" {
			t.Errorf("classify(%s) = \"\", want a special range", a)
		}
	}
	for _, a := range publicAddrs {
		if c := classify(netip.MustParseAddr(a)); c != "" {
			t.Errorf("classify(%s) = %q, want an ordinary address", a, c)
		}
	}
}
