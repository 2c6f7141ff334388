//go:build !js && !wasip1

package bridge

// Forbidden destinations in every spelling, through a real bridge: a
// CONNECT over a WebSocket, answered with CLOSE(0x48) by default, and let
// through again by a rule that names the destination.

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/wisp"
)

// outcome opens a stream to host:port on a fresh session and reports how
// it ended: OPENED, or the reason of its CLOSE.
func outcome(t *testing.T, b *testBridge, host string, port uint16) (opened bool, reason wisp.Reason) {
	t.Helper()
	s := dialV2(t, b, wisp.ExtOpened)
	defer s.ws.CloseNow()
	s.send(wisp.Packet{Type: wisp.TypeConnect, Stream: 1, Connect: wisp.Connect{StreamType: wisp.StreamTCP, Host: host, Port: port}})
	p := s.nextOn(1)
	switch p.Type {
	case wisp.TypeOpened:
		return true, 0
	case wisp.TypeClose:
		return false, p.Reason
	}
	t.Fatalf("CONNECT %s: got %v, want OPENED or CLOSE", host, p.Type)
	return false, 0
}

func TestForbiddenForms(t *testing.T) {
	dest := listen(t, nil) // on 127.0.0.1; reached only if a rule lets a form through
	_, port := splitAddr(t, dest.addr())
	dest6 := listen6(t, port)
	dns := startDNS(t)
	dns.set("loop.test", "127.0.0.1")
	dns.set("meta.test", "169.254.169.254")
	dns.set("private.test", "10.0.0.1")
	dns.set("v6private.test", "fd00::1")
	dns.set("mapped.test", "::ffff:127.0.0.1")
	dns.set("mixed.test", "93.184.216.34", "127.0.0.1") // a public and a private answer
	loop := fmt.Sprintf("127.0.0.1/32:%d", port)

	forms := []struct {
		host  string
		rule  string // a rule that names it
		reach bool   // with the rule, the connect reaches a listener of this test
	}{
		// Loopback, in every spelling inet_aton(3) takes.
		{"127.0.0.1", loop, true},
		{"127.1", loop, true},
		{"127.0.1", loop, true},
		{"2130706433", loop, true},                            // decimal
		{"017700000001", loop, true},                          // octal
		{"0177.0.0.1", loop, true},                            // octal, dotted
		{"0177.0000.0000.0001", loop, true},                   // octal with padding
		{"127.0.0.01", loop, true},                            // an octal part
		{"0x7f000001", loop, true},                            // hex
		{"0x7f.0.0.1", loop, true},                            // hex, dotted
		{"0X7F.0x0.0x0.0x1", loop, true},                      // hex, upper case
		{"0x7f.1", loop, true},                                // hex, short
		{"[::ffff:127.0.0.1]", loop, true},                    // IPv4-mapped
		{"::ffff:127.0.0.1", loop, true},                      // IPv4-mapped, no brackets
		{"[::ffff:7f00:1]", loop, true},                       // IPv4-mapped, hex
		{"localhost", loop, true},                             // /etc/hosts
		{"loop.test", loop, true},                             // DNS
		{"mapped.test", loop, true},                           // DNS, a mapped AAAA
		{"mixed.test", loop, true},                            // DNS, loopback beside a public answer
		{"0.0.0.0", fmt.Sprintf("0.0.0.0/32:%d", port), true}, // "this host"
		{"0", fmt.Sprintf("0.0.0.0/32:%d", port), true},
		{"[::1]", fmt.Sprintf("[::1]:%d", port), dest6 != nil},
		{"[0:0:0:0:0:0:0:1]", fmt.Sprintf("[::1]:%d", port), dest6 != nil},
		// Cloud metadata.
		{"169.254.169.254", "169.254.169.254/32", false},
		{"2852039166", "169.254.169.254/32", false},
		{"0xa9fea9fe", "169.254.169.254/32", false},
		{"0251.0376.0251.0376", "169.254.169.254/32", false},
		{"169.254.43518", "169.254.169.254/32", false},
		{"[::ffff:169.254.169.254]", "169.254.169.254/32", false},
		{"[64:ff9b::a9fe:a9fe]", "[64:ff9b::a9fe:a9fe]", false}, // NAT64
		{"[2002:a9fe:a9fe::1]", "[2002:a9fe:a9fe::1]", false},   // 6to4
		{"meta.test", "meta.test", false},
		{"100.100.100.200", "100.100.100.200/32", false},
		{"168.63.129.16", "168.63.129.16/32", false},
		{"[fd00:ec2::254]", "[fd00:ec2::254]", false},
		// Private networks, CGNAT, link-local, ULA.
		{"10.0.0.1", "10.0.0.0/8", false},
		{"172.16.0.1", "172.16.0.0/12", false},
		{"192.168.1.1", "192.168.0.0/16", false},
		{"100.64.0.1", "100.64.0.0/10", false},
		{"169.254.0.1", "169.254.0.0/16", false},
		{"[fd00::1]", "[fd00::/8]", false},
		{"[fe80::1]", "[fe80::/10]", false},
		{"private.test", "private.test", false},
		{"v6private.test", "v6private.test", false},
		// IPv6 forms of a private IPv4 address.
		{"[::ffff:0:a00:1]", "[::ffff:0:a00:1]", false},                                             // IPv4-translated
		{"[::10.0.0.1]", "[::10.0.0.1]", false},                                                     // IPv4-compatible
		{"[2002:a00:1::1]", "[2002:a00:1::1]", false},                                               // 6to4
		{"[2001:0:4136:e378:8000:63bf:f5ff:fffe]", "[2001:0:4136:e378:8000:63bf:f5ff:fffe]", false}, // Teredo
		// Not unicast destinations at all, or not for use.
		{"0.1.2.3", "0.0.0.0/8", false},
		{"224.0.0.1", "224.0.0.0/4", false},
		{"[ff02::1]", "[ff00::/8]", false},
		{"255.255.255.255", "255.255.255.255/32", false},
		{"240.0.0.1", "240.0.0.0/4", false},
		{"192.0.2.1", "192.0.2.0/24", false},
		{"198.51.100.7", "198.51.100.0/24", false},
		{"203.0.113.9", "203.0.113.0/24", false},
		{"[2001:db8::1]", "[2001:db8::/32]", false},
		{"198.18.0.1", "198.18.0.0/15", false},
		{"192.0.0.192", "192.0.0.0/24", false},
	}
	if len(forms) < 40 {
		t.Fatalf("only %d forms", len(forms))
	}

	// By default, a broad rule and all: every form is refused.
	deny := startBridge(t, Config{Resolver: dns.resolver(), Policy: Policy{Allow: []Rule{mustRule(t, "*")}}})
	t.Run("refused", func(t *testing.T) { // returns once its parallel subtests have ended
		for _, f := range forms {
			t.Run(f.host, func(t *testing.T) {
				t.Parallel()
				if opened, reason := outcome(t, deny, f.host, port); opened || reason != wisp.ReasonBlocked {
					t.Errorf("CONNECT %s:%d: opened %v, reason %v; want CLOSE(0x48)", f.host, port, opened, reason)
				}
			})
		}
	})
	dest.expectNone(t, "the bridge connected to loopback with the default policy")

	// A rule that names the destination lets it through: the connect
	// either reaches the listener or fails for a reason of the network,
	// not of the policy.
	for _, f := range forms {
		t.Run("allowed/"+f.host, func(t *testing.T) {
			t.Parallel()
			b := startBridge(t, Config{
				Resolver:    dns.resolver(),
				Policy:      Policy{Allow: []Rule{mustRule(t, "*"), mustRule(t, f.rule)}},
				DialTimeout: time.Second,
			})
			opened, reason := outcome(t, b, f.host, port)
			switch {
			case f.reach && !opened:
				t.Errorf("CONNECT %s:%d under %q: CLOSE(%v), want OPENED", f.host, port, f.rule, reason)
			case reason == wisp.ReasonBlocked:
				t.Errorf("CONNECT %s:%d under %q: still blocked", f.host, port, f.rule)
			}
		})
	}
}

// TestDNSRebinding: a name that resolved to a public address a moment ago
// resolves to loopback now. The bridge judges the address it dials, so
// the public answer it saw first does not open the private one.
func TestDNSRebinding(t *testing.T) {
	dest := listen(t, nil)
	_, port := splitAddr(t, dest.addr())
	dns := startDNS(t)
	dns.set("rebind.test", "93.184.216.34")
	b := startBridge(t, Config{Resolver: dns.resolver(), Policy: Policy{Allow: []Rule{mustRule(t, "*")}}})

	s := dialV2(t, b, wisp.ExtOpened, wisp.ExtResolve)
	s.send(wisp.Packet{Type: wisp.TypeResolve, Stream: 1, Query: wisp.Query{Type: wisp.QueryIP, Name: "rebind.test"}})
	p := s.nextOn(1)
	if p.Type != wisp.TypeResolved || p.Answer.Status != wisp.StatusOK || len(p.Answer.IPs) != 1 || p.Answer.IPs[0].String() != "93.184.216.34" {
		t.Fatalf("first lookup of rebind.test: %v %+v, want the public address", p.Type, p.Answer)
	}

	dns.set("rebind.test", "127.0.0.1")
	if opened, reason := outcome(t, b, "rebind.test", port); opened || reason != wisp.ReasonBlocked {
		t.Fatalf("CONNECT rebind.test after rebinding: opened %v, reason %v; want CLOSE(0x48)", opened, reason)
	}
	dest.expectNone(t, "the bridge connected to the rebound address")

	// A rule that names the private address lets the same name through.
	allowed := startBridge(t, Config{Resolver: dns.resolver(), Policy: Policy{Allow: []Rule{mustRule(t, "*"), mustRule(t, fmt.Sprintf("127.0.0.1/32:%d", port))}}})
	if opened, reason := outcome(t, allowed, "rebind.test", port); !opened {
		t.Fatalf("CONNECT rebind.test with a rule for loopback: CLOSE(%v), want OPENED", reason)
	}
	dest.accept(t)
}

// listen6 starts a listener on [::1] on port, if the host has IPv6
// loopback and the port is free there; nil otherwise.
func listen6(t *testing.T, port uint16) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp6", fmt.Sprintf("[::1]:%d", port))
	if err != nil {
		t.Logf("no IPv6 loopback listener: %v", err)
		return nil
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln
}
