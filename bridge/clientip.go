//go:build !js && !wasip1

package bridge

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address a request came from. Behind a reverse proxy
// that Config.TrustedProxies names, it is the address the proxy reports
// in X-Forwarded-For: the rightmost entry that is not itself a trusted
// proxy. Entries to the left of it were written by the client and prove
// nothing. Without trusted proxies the header is ignored, since any
// client can send one.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := remoteIP(r.RemoteAddr)
	if !isTrusted(peer, trusted) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled list: trust nothing further left
		}
		ip = ip.Unmap().WithZone("")
		if !isTrusted(ip, trusted) {
			return ip
		}
		peer = ip
	}
	return peer
}

func remoteIP(addr string) netip.Addr {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap().WithZone("")
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ipKey is what the per-IP limit counts: an IPv4 address, or the /64 of
// an IPv6 address, since one host commonly holds a whole /64.
func ipKey(ip netip.Addr) string {
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
