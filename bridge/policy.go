//go:build !js && !wasip1

package bridge

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Policy decides which destinations the bridge may connect to. It judges
// the address actually dialed, after DNS, so a name that resolves to a
// forbidden address is refused however it is spelled.
//
// The zero Policy refuses everything. Allow rules open destinations; deny
// rules win over them. Special ranges (loopback, private, link-local,
// CGNAT, multicast, documentation, cloud metadata and the like, in IPv4 and
// IPv6, including IPv4-mapped, NAT64, 6to4 and Teredo forms) stay refused
// even under a broad rule such as "*" or "0.0.0.0/0". Only a rule that
// names them opens them: a CIDR that lies inside a special range, or a
// host name.
type Policy struct {
	Allow []Rule
	Deny  []Rule

	// keepSpecial stops allow rules from opening special ranges: a
	// token's rules, unless the operator lets tokens open them.
	keepSpecial bool
}

// A Rule matches destinations by host and port. Its text form is
// HOST[:PORTS], where HOST is
//
//   - any host, special ranges excepted
//     192.0.2.7        an IP address; IPv6 in brackets: [2001:db8::7]
//     10.0.0.0/8       a CIDR prefix; IPv6 in brackets: [fd00::/8]
//     mail.example     a host name, exactly
//     *.example        any name under example (not example itself)
//
// and PORTS is a port, a range such as 7000-7010, or * (the default).
type Rule struct {
	Any    bool         // "*"
	Prefix netip.Prefix // an address or CIDR
	Host   string       // an exact name, lower case
	Suffix string       // ".example" for "*.example"
	Low    uint16
	High   uint16
	text   string
}

// ParseRule parses the text form of a rule.
func ParseRule(s string) (Rule, error) {
	r := Rule{text: s, Low: 1, High: 65535}
	host, ports, colon := s, "", false
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return Rule{}, fmt.Errorf("rule %q: missing ]", s)
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return Rule{}, fmt.Errorf("rule %q: want :PORTS after ]", s)
			}
			ports, colon = rest[1:], true
		}
	case strings.Count(s, ":") == 1:
		host, ports, colon = s[:strings.Index(s, ":")], s[strings.Index(s, ":")+1:], true
	}
	if colon && ports != "*" {
		lo, hi, found := strings.Cut(ports, "-")
		if !found {
			hi = lo
		}
		l, err1 := strconv.ParseUint(lo, 10, 16)
		h, err2 := strconv.ParseUint(hi, 10, 16)
		if err1 != nil || err2 != nil || l == 0 || l > h {
			return Rule{}, fmt.Errorf("rule %q: bad port range %q", s, ports)
		}
		r.Low, r.High = uint16(l), uint16(h)
	}

	host = strings.ToLower(strings.TrimSuffix(host, "."))
	switch {
	case host == "":
		return Rule{}, fmt.Errorf("rule %q: no host", s)
	case host == "*":
		r.Any = true
	case strings.HasPrefix(host, "*."):
		r.Suffix = host[1:]
		if !validName(r.Suffix[1:]) {
			return Rule{}, fmt.Errorf("rule %q: bad domain %q", s, r.Suffix[1:])
		}
	case strings.Contains(host, "/"):
		p, err := netip.ParsePrefix(host)
		if err != nil {
			return Rule{}, fmt.Errorf("rule %q: %v", s, err)
		}
		r.Prefix = p.Masked()
	default:
		if ip, err := netip.ParseAddr(host); err == nil {
			r.Prefix = netip.PrefixFrom(ip, ip.BitLen())
		} else if validName(host) {
			r.Host = host
		} else {
			return Rule{}, fmt.Errorf("rule %q: %q is neither an address nor a host name", s, host)
		}
	}
	return r, nil
}

// ParseRules parses a comma-separated list of rules.
func ParseRules(s string) ([]Rule, error) {
	var rules []Rule
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		r, err := ParseRule(f)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func (r Rule) String() string { return r.text }

// matches reports whether the rule covers dialing ip for the name host on
// port. host is lower case and may be an IP literal.
func (r Rule) matches(host string, ip netip.Addr, port uint16) bool {
	return port >= r.Low && port <= r.High && r.matchesHost(host, ip)
}

// matchesHost is matches on any port.
func (r Rule) matchesHost(host string, ip netip.Addr) bool {
	switch {
	case r.Any:
		return true
	case r.Prefix.IsValid():
		// A zone does not move an address out of a prefix, and a rule
		// written in IPv4-mapped form means the IPv4 addresses, which are
		// what the bridge dials.
		ip = ip.WithZone("")
		p := unmapPrefix(r.Prefix)
		return p.Contains(ip) || (ip.Is4In6() && p.Contains(ip.Unmap()))
	case r.Host != "":
		return host == r.Host
	case r.Suffix != "":
		return strings.HasSuffix(host, r.Suffix)
	}
	return false
}

// opens reports whether a matching rule may open a special range: it must
// name the destination, not just cover everything.
func (r Rule) opens() bool {
	switch {
	case r.Any:
		return false
	case r.Prefix.IsValid():
		return specialPrefix(r.Prefix)
	}
	return true // a host name or domain the operator wrote down
}

// Decision is the outcome of a policy check, with the reason for the log.
type Decision struct {
	Allowed bool
	Why     string
	kind    refusal
}

// refusal is what refused a destination, for the close reason and the
// metrics.
type refusal uint8

const (
	allowed        refusal = iota
	refusedSpecial         // a special range no rule opens
	refusedDeny            // a deny rule
	refusedNoRule          // no allow rule matches
)

func (r refusal) String() string {
	return [...]string{"allowed", "special_range", "deny_rule", "no_allow_rule"}[r]
}

// Check decides whether the bridge may dial ip on port for a CONNECT that
// named host (a name or an IP literal).
func (p *Policy) Check(host string, ip netip.Addr, port uint16) Decision {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, r := range p.Deny {
		if r.matches(host, ip, port) {
			return Decision{false, fmt.Sprintf("deny rule %q matches %v port %d", r.text, ip, port), refusedDeny}
		}
	}
	class := classify(ip)
	for _, r := range p.Allow {
		if !r.matches(host, ip, port) {
			continue
		}
		if class == "" {
			return Decision{true, fmt.Sprintf("allow rule %q matches %v port %d", r.text, ip, port), allowed}
		}
		if p.opens(r) {
			return Decision{true, fmt.Sprintf("allow rule %q opens %s address %v port %d", r.text, class, ip, port), allowed}
		}
	}
	if class != "" {
		return Decision{false, fmt.Sprintf("%v is a %s address, refused unless a rule names it", ip, class), refusedSpecial}
	}
	return Decision{false, fmt.Sprintf("no allow rule matches %v port %d", ip, port), refusedNoRule}
}

// opens reports whether r, one of p's allow rules, may open special ranges.
func (p *Policy) opens(r Rule) bool { return r.opens() && !p.keepSpecial }

// Reveals reports whether the bridge may tell a client that host resolves
// to ip: an ordinary address, or a special one that some allow rule opens
// on some port. A deny rule that covers every port hides the address.
func (p *Policy) Reveals(host string, ip netip.Addr) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, r := range p.Deny {
		if r.Low == 1 && r.High == 65535 && r.matchesHost(host, ip) {
			return false
		}
	}
	if classify(ip) == "" {
		return true
	}
	for _, r := range p.Allow {
		if r.matchesHost(host, ip) && p.opens(r) {
			return true
		}
	}
	return false
}

// errInvalidHost is the cause of a CONNECT whose host is not a name.
var errInvalidHost = errors.New("invalid host")

// parseHost turns the host of a CONNECT into an address, accepting the
// forms inet_aton(3) accepts (decimal, octal, hex and short IPv4) so that
// they are judged by the address they mean, or checks that it is a host
// name to resolve.
func parseHost(host string) (netip.Addr, error) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, nil
	}
	if ip, ok := parseLegacyIPv4(host); ok {
		return ip, nil
	}
	if !validName(host) {
		return netip.Addr{}, errInvalidHost
	}
	return netip.Addr{}, nil
}

// parseLegacyIPv4 parses the numeric forms of inet_aton(3): one to four
// parts, each decimal, octal (leading 0) or hex (leading 0x), the last part
// filling the remaining bytes.
func parseLegacyIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var vals []uint64
	for _, p := range parts {
		base := 10
		switch {
		case strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X"):
			p, base = p[2:], 16
		case len(p) > 1 && p[0] == '0':
			p, base = p[1:], 8
		}
		if p == "" {
			return netip.Addr{}, false
		}
		v, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals = append(vals, v)
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*i)
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// validName reports whether s is a syntactically valid DNS name.
func validName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return false
			}
		}
	}
	return true
}
