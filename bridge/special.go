//go:build !js && !wasip1

package bridge

import (
	"encoding/binary"
	"net/netip"
)

// A special range is address space that a bridge on the open internet must
// not reach unless the operator names it: the bridge's own host, private
// networks, cloud metadata services, and addresses that are not unicast
// destinations at all.
type special struct {
	prefix netip.Prefix
	name   string
}

var specialRanges = func() []special {
	// The first match names an address, so the cloud metadata entries come
	// before the ranges that hold them: a refusal in the log then says
	// what was at stake.
	list := []struct{ cidr, name string }{
		{"169.254.169.254/32", "cloud metadata"}, // AWS, GCP, Azure, OpenStack, Oracle
		{"169.254.170.2/32", "cloud metadata"},   // AWS ECS task metadata
		{"100.100.100.200/32", "cloud metadata"}, // Alibaba Cloud
		{"168.63.129.16/32", "cloud metadata"},   // Azure's wire server is a public address
		{"fd00:ec2::254/128", "cloud metadata"},  // AWS IMDS over IPv6
		{"fd20:ce::254/128", "cloud metadata"},   // GCP metadata over IPv6

		{"0.0.0.0/8", "this-network"},
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "shared address space (CGNAT)"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "IETF protocol assignments"},
		{"192.0.2.0/24", "documentation"},
		{"192.88.99.0/24", "6to4 relay anycast"},
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "benchmarking"},
		{"198.51.100.0/24", "documentation"},
		{"203.0.113.0/24", "documentation"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved"},
		{"255.255.255.255/32", "broadcast"},

		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"100::/64", "discard-only"},
		{"2001:2::/48", "benchmarking"},
		{"2001:10::/28", "ORCHID"},
		{"2001:20::/28", "ORCHIDv2"},
		{"2001::/23", "IETF protocol assignments"},
		{"2001:db8::/32", "documentation"},
		{"3fff::/20", "documentation"},
		{"5f00::/16", "segment routing"},
		{"fc00::/7", "unique local"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local"},
		{"ff00::/8", "multicast"},
	}
	out := make([]special, len(list))
	for i, e := range list {
		out[i] = special{netip.MustParsePrefix(e.cidr), e.name}
	}
	return out
}()

// globalUnicast is the only IPv6 space IANA allocates for global unicast.
// Anything outside it that no other entry names is reserved.
var globalUnicast = netip.MustParsePrefix("2000::/3")

// IPv6 forms that carry an IPv4 address: the bridge judges the IPv4 address
// they lead to.
var (
	v4Translated   = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT, RFC 2765
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local     = netip.MustParsePrefix("64:ff9b:1::/48")
	v4Compatible   = netip.MustParsePrefix("::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	teredo         = netip.MustParsePrefix("2001::/32")
)

// classify returns the name of the special range that ip belongs to, or ""
// for an ordinary unicast address. IPv6 addresses that embed an IPv4
// address (mapped, translated, NAT64, IPv4-compatible, 6to4, Teredo) are
// judged by the IPv4 address inside, so "::ffff:127.0.0.1" and
// "2002:7f00:1::" are loopback. IPv6 outside 2000::/3 that no entry names
// is reserved.
func classify(ip netip.Addr) string {
	ip = ip.WithZone("")
	if ip.Is4In6() {
		if name := classify(ip.Unmap()); name != "" {
			return "IPv4-mapped " + name
		}
		return ""
	}
	if ip.Is6() {
		b := ip.As16()
		var inner netip.Addr
		var form string
		switch {
		case v4Translated.Contains(ip):
			inner, form = netip.AddrFrom4([4]byte(b[12:16])), "IPv4-translated"
		case nat64WellKnown.Contains(ip), nat64Local.Contains(ip):
			inner, form = netip.AddrFrom4([4]byte(b[12:16])), "NAT64"
		case v4Compatible.Contains(ip) && binary.BigEndian.Uint32(b[12:16]) > 1:
			inner, form = netip.AddrFrom4([4]byte(b[12:16])), "IPv4-compatible"
		case sixToFour.Contains(ip):
			inner, form = netip.AddrFrom4([4]byte(b[2:6])), "6to4"
		case teredo.Contains(ip):
			// The client's address is stored inverted in the last 32 bits;
			// the Teredo server's address sits in bits 32 to 63.
			var client [4]byte
			for i := range client {
				client[i] = ^b[12+i]
			}
			if name := classify(netip.AddrFrom4([4]byte(b[4:8]))); name != "" {
				return "Teredo server " + name
			}
			inner, form = netip.AddrFrom4(client), "Teredo"
		}
		if inner.IsValid() {
			if name := classify(inner); name != "" {
				return form + " " + name
			}
			return ""
		}
	}
	for _, s := range specialRanges {
		if s.prefix.Contains(ip) {
			return s.name
		}
	}
	if ip.Is6() && !globalUnicast.Contains(ip) {
		return "reserved (outside 2000::/3)"
	}
	return ""
}

// specialPrefix reports whether all of p lies inside one special range, so
// that a rule naming p deliberately opens special address space.
func specialPrefix(p netip.Prefix) bool {
	p = p.Masked()
	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return false
		}
		p = unmapPrefix(p)
	}
	if p.IsSingleIP() {
		return classify(p.Addr()) != "" // an embedded form, such as NAT64 of loopback
	}
	for _, s := range specialRanges {
		if s.prefix.Bits() <= p.Bits() && s.prefix.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// unmapPrefix turns a prefix of IPv4-mapped addresses, ::ffff:a.b.c.d/96
// or longer, into the IPv4 prefix it stands for. Other prefixes are
// returned as they are.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96).Masked()
	}
	return p
}
