//go:build !js && !wasip1

package jstest

import (
	"context"
	"slices"
	"testing"
)

// TestUDPSocket runs the checks of UDPSocket on a page and in a module
// Worker, against one bridge: DNS and an echo over a connected socket, a
// bound socket talking to two servers, and the errors.
func TestUDPSocket(t *testing.T) {
	e := startEnv(t)
	ctx := e.page(t)
	for _, where := range []string{"page", "worker"} {
		t.Run(where, func(t *testing.T) {
			t.Run("DNS", func(t *testing.T) { testUDPDNS(t, e, ctx, where) })
			t.Run("Echo", func(t *testing.T) { testUDPEcho(t, e, ctx, where) })
			t.Run("Bound", func(t *testing.T) { testUDPBound(t, e, ctx, where) })
			t.Run("Errors", func(t *testing.T) { testUDPErrors(t, e, ctx, where) })
		})
	}
}

// testUDPDNS: a query encoded by hand in JavaScript, answered by
// miekg/dns (internal/services) over UDP.
func testUDPDNS(t *testing.T, e *env, ctx context.Context, where string) {
	var r struct {
		ID, WantID, Rcode           int
		Addresses                   []string
		DataType                    string
		Fields                      []string
		RemoteAddress, LocalAddress string
		RemotePort, LocalPort       int
		Close, Closed               maybeError
	}
	run(t, ctx, where, "udpDns", e.cfg, &r)
	if r.ID != r.WantID || r.Rcode != 0 || !slices.Equal(r.Addresses, []string{"192.0.2.1"}) {
		t.Errorf("answer: id %#x (asked %#x), rcode %d, A %v; want rcode 0 and 192.0.2.1 (services.Zone)", r.ID, r.WantID, r.Rcode, r.Addresses)
	}
	if r.DataType != "Uint8Array" || !slices.Equal(r.Fields, []string{"data"}) {
		t.Errorf("a connected socket's message is a %s with %v; want a Uint8Array alone in data", r.DataType, r.Fields)
	}
	if r.RemoteAddress != "127.0.0.1" || r.RemotePort != e.cfg["dnsPort"] {
		t.Errorf("opened says remote %s:%d; want 127.0.0.1:%d", r.RemoteAddress, r.RemotePort, e.cfg["dnsPort"])
	}
	if r.LocalAddress == "" || r.LocalPort == 0 {
		t.Errorf("opened says local %q:%d; want the bridge's UDP socket", r.LocalAddress, r.LocalPort)
	}
	if r.Close.Error != nil || r.Closed.Error != nil {
		t.Errorf("close(): %s, closed: %s; want both resolved", r.Close.Error, r.Closed.Error)
	}
}

// testUDPEcho: datagrams of many sizes, up to the largest UDP carries,
// come back whole, one per read; a larger one is refused.
func testUDPEcho(t *testing.T, e *env, ctx context.Context, where string) {
	sizes := []int{1, 0, 100, 1400, 1500, 9000, 32768, 65507, 7}
	var r struct {
		Echoed []struct {
			Sent, Got int
			Same      bool
			Error     *checkError
		}
		TooLarge *checkError
		Closed   maybeError
	}
	run(t, ctx, where, "udpEcho", e.with("sizes", sizes), &r)
	if len(r.Echoed) != len(sizes) {
		t.Fatalf("%d datagrams echoed; want %d", len(r.Echoed), len(sizes))
	}
	for _, d := range r.Echoed {
		if d.Error != nil || d.Got != d.Sent || !d.Same {
			t.Errorf("a %d-byte datagram came back as %d bytes (same: %v, error: %s)", d.Sent, d.Got, d.Same, d.Error)
		}
	}
	wantError(t, "a 65508-byte datagram", r.TooLarge, "NetworkError", "65507")
	wantError(t, "closed after the writable failed", r.Closed.Error, "NetworkError", "65507")
}

// testUDPBound: one bound socket sends to two echo servers, one of them
// by name, and tells the replies apart by their remote address and port.
func testUDPBound(t *testing.T, e *env, ctx context.Context, where string) {
	type reply struct {
		Text, RemoteAddress string
		RemotePort          int
	}
	var r struct {
		Replies       []reply
		Keys          []string
		LocalAddress  string
		LocalPort     int
		Close, Closed maybeError
	}
	run(t, ctx, where, "udpBound", e.cfg, &r)
	p1, p2 := e.cfg["udpEchoPort"].(int), e.cfg["udpEcho2Port"].(int)
	want := []reply{{"one", "127.0.0.1", p1}, {"two", "127.0.0.1", p2}, {"three", "127.0.0.1", p2}}
	// The first two may come back in either order.
	if len(r.Replies) == 3 && r.Replies[0].Text == "two" {
		r.Replies[0], r.Replies[1] = r.Replies[1], r.Replies[0]
	}
	if !slices.Equal(r.Replies, want) {
		t.Errorf("replies %+v; want %+v", r.Replies, want)
	}
	if !slices.Equal(r.Keys, []string{"localAddress", "localPort", "readable", "writable"}) {
		t.Errorf("a bound socket's opened has %v; want readable, writable, localAddress and localPort", r.Keys)
	}
	if r.LocalAddress != "0.0.0.0" || r.LocalPort != 0 {
		t.Errorf("a bound socket reports local %s:%d; want 0.0.0.0:0 (the bridge has a socket per peer)", r.LocalAddress, r.LocalPort)
	}
	if r.Close.Error != nil || r.Closed.Error != nil {
		t.Errorf("close(): %s, closed: %s; want both resolved", r.Close.Error, r.Closed.Error)
	}
}

func testUDPErrors(t *testing.T, e *env, ctx context.Context, where string) {
	var r map[string]*checkError
	run(t, ctx, where, "udpErrors", e.cfg, &r)
	forbidden := "127.0.0.1:" + itoa(e.cfg["forbiddenPort"])
	wantError(t, "opened of a forbidden destination", r["forbidden"], "NotAllowedError", "policy", "datagrams", forbidden)
	wantError(t, "closed of a forbidden destination", r["forbiddenClosed"], "NotAllowedError", "policy")
	if r["forbidden"] != nil && !r["forbidden"].DOMException {
		t.Errorf("the forbidden destination's error is not a DOMException")
	}
	// As in Chromium, close() after a failed open returns closed.
	wantError(t, "close() of a socket that failed to open", r["closeFailed"], "NotAllowedError", "policy")
	wantError(t, "close() while opening", r["closeWhileOpening"], "InvalidStateError")
	wantError(t, "a bound socket's write to a forbidden destination", r["boundForbidden"], "NotAllowedError", "policy", forbidden)
	wantError(t, "closed of that bound socket", r["boundForbiddenClosed"], "NotAllowedError", "policy")
	wantError(t, "a bound socket's write without a peer", r["boundNoPeer"], "TypeError", "remoteAddress")
	wantError(t, "a connected socket's write naming a peer", r["connectedWithPeer"], "TypeError", "remoteAddress")
	wantError(t, "a message whose data is a string", r["badChunk"], "TypeError", "BufferSource")
	wantError(t, "a bound socket with a localPort", r["localPort"], "NotSupportedError", "localPort")
	wantError(t, "new UDPSocket({})", r["noMode"], "TypeError", "bound mode")
	wantError(t, "remoteAddress without remotePort", r["halfRemote"], "TypeError", "remotePort")
	wantError(t, "both modes", r["bothModes"], "TypeError", "not both")
	wantError(t, "a name as localAddress", r["localName"], "TypeError", "IP address")
	wantError(t, "localPort 0", r["zeroLocalPort"], "TypeError", "localPort")
	wantError(t, "dnsQueryType in bound mode", r["boundDnsQueryType"], "TypeError", "dnsQueryType")
	wantError(t, "ipv6Only with 0.0.0.0", r["ipv6OnlyV4"], "TypeError", "ipv6Only")
	wantError(t, "a multicast option", r["multicast"], "NotAllowedError", "multicast")
	wantError(t, "receiveBufferSize 0", r["zeroBuffer"], "TypeError", "receiveBufferSize")
	if r["ipv6Only"] != nil {
		t.Errorf("a bound socket on :: with ipv6Only: %s; want it open", r["ipv6Only"])
	}
}
