package wisp_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/wasmnet/wasmnet/internal/protodoc"
	"github.com/wasmnet/wasmnet/wisp"
)

// protocolDoc is the wire-format document whose test vectors these tests
// check, so that the document and the codec cannot drift apart.
const protocolDoc = "docs/PROTOCOL.md"

// readVectors returns the vectors of the fenced block whose info string is
// info.
func readVectors(t testing.TB, info string) []protodoc.Vector {
	t.Helper()
	vs, err := protodoc.Load(info)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

var formatHex = protodoc.FormatHex

// validPackets are the packets the vectors block of protocolDoc encodes,
// keyed by vector name.
var validPackets = map[string]wisp.Packet{
	"connect-tcp-example.com-443": {Type: wisp.TypeConnect, Stream: 1, Connect: wisp.Connect{
		StreamType: wisp.StreamTCP, Port: 443, Host: "example.com",
	}},
	"connect-udp-ipv6-literal": {Type: wisp.TypeConnect, Stream: 2, Connect: wisp.Connect{
		StreamType: wisp.StreamUDP, Port: 53, Host: "2001:db8::1",
	}},
	"data-hello":            {Type: wisp.TypeData, Stream: 1, Data: []byte("hello")},
	"data-empty":            {Type: wisp.TypeData, Stream: 1, Data: []byte{}},
	"data-stream-id-le":     {Type: wisp.TypeData, Stream: 0x01020304, Data: []byte{0xff}},
	"continue-32":           {Type: wisp.TypeContinue, Stream: 0, Credit: 32},
	"continue-stream-1-16":  {Type: wisp.TypeContinue, Stream: 1, Credit: 16},
	"close-refused":         {Type: wisp.TypeClose, Stream: 1, Reason: wisp.ReasonRefused},
	"close-voluntary":       {Type: wisp.TypeClose, Stream: 1, Reason: wisp.ReasonVoluntary},
	"close-credit-exceeded": {Type: wisp.TypeClose, Stream: 3, Reason: wisp.ReasonCreditExceeded},
	"info-v2-no-extensions": {Type: wisp.TypeInfo, Info: wisp.Info{Major: 2, Minor: 0}},
	"info-v2-wasmnet-client": {Type: wisp.TypeInfo, Info: wisp.Info{Major: 2, Minor: 0, Extensions: []wisp.Extension{
		{ID: wisp.ExtWindow, Data: []byte{0x00, 0x00, 0x20, 0x00}}, // 2097152
		{ID: wisp.ExtHalfClose, Data: []byte{}},
		{ID: wisp.ExtOpened, Data: []byte{}},
		{ID: wisp.ExtUDP, Data: []byte{}},
		{ID: wisp.ExtListen, Data: []byte{}},
		{ID: wisp.ExtResolve, Data: []byte{}},
		{ID: wisp.ExtCredit, Data: []byte{}},
	}}},
	"info-v2-wasmnet-bridge": {Type: wisp.TypeInfo, Info: wisp.Info{Major: 2, Minor: 0, Extensions: []wisp.Extension{
		{ID: wisp.ExtWindow, Data: []byte{}},
		{ID: wisp.ExtHalfClose, Data: []byte{}},
		{ID: wisp.ExtOpened, Data: []byte{}},
		{ID: wisp.ExtListen, Data: []byte{}},
		{ID: wisp.ExtResolve, Data: []byte{}},
		{ID: wisp.ExtCredit, Data: []byte{}},
		{ID: wisp.ExtUDP, Data: []byte{}},
	}}},
	"info-v2-udp-motd-hi": {Type: wisp.TypeInfo, Info: wisp.Info{Major: 2, Minor: 0, Extensions: []wisp.Extension{
		{ID: wisp.ExtUDP, Data: []byte{}},
		{ID: wisp.ExtMOTD, Data: []byte("hi")},
	}}},
	"window-65536": {Type: wisp.TypeWindow, Stream: 1, Credit: 65536},
	"fin":          {Type: wisp.TypeFin, Stream: 1},
	"opened-ipv4": {Type: wisp.TypeOpened, Stream: 1, Opened: wisp.Opened{
		Remote: netip.MustParseAddrPort("192.0.2.10:443"),
		Local:  netip.MustParseAddrPort("198.51.100.7:50000"),
	}},
	"opened-ipv6-remote-unknown-local": {Type: wisp.TypeOpened, Stream: 1, Opened: wisp.Opened{
		Remote: netip.MustParseAddrPort("[2001:db8::1]:443"),
	}},
	"listen-public-8080": {Type: wisp.TypeListen, Stream: 9, Connect: wisp.Connect{StreamType: wisp.StreamTCP, Port: 8080}},
	"listen-endpoint": {Type: wisp.TypeListen, Stream: 10, Connect: wisp.Connect{
		StreamType: wisp.StreamTCP, Port: 80, Host: "chat.wasmnet.internal",
	}},
	"accept": {Type: wisp.TypeAccept, Stream: 0x80000001, Accept: wisp.Accept{
		Listener: 9,
		Remote:   netip.MustParseAddrPort("198.51.100.7:52000"),
		Local:    netip.MustParseAddrPort("192.0.2.1:8080"),
	}},
	"resolve-mx": {Type: wisp.TypeResolve, Stream: 11, Query: wisp.Query{Type: wisp.QueryMX, Name: "example.com"}},
	"resolved-ip": {Type: wisp.TypeResolved, Stream: 11, Answer: wisp.Answer{Type: wisp.QueryIP, IPs: []netip.Addr{
		netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1"),
	}}},
	"resolved-mx": {Type: wisp.TypeResolved, Stream: 11, Answer: wisp.Answer{Type: wisp.QueryMX, MX: []wisp.MX{{Pref: 10, Host: "mx.example.com."}}}},
	"resolved-srv": {Type: wisp.TypeResolved, Stream: 12, Answer: wisp.Answer{Type: wisp.QuerySRV,
		CNAME: "_xmpp-client._tcp.example.com.",
		SRV:   []wisp.SRV{{Priority: 5, Weight: 0, Port: 5222, Target: "xmpp.example.com."}},
	}},
	"resolved-txt":       {Type: wisp.TypeResolved, Stream: 13, Answer: wisp.Answer{Type: wisp.QueryTXT, TXT: []string{"v=spf1 -all"}}},
	"resolved-cname":     {Type: wisp.TypeResolved, Stream: 14, Answer: wisp.Answer{Type: wisp.QueryCNAME, CNAME: "www.example.com."}},
	"resolved-not-found": {Type: wisp.TypeResolved, Stream: 15, Answer: wisp.Answer{Type: wisp.QueryIP, Status: wisp.StatusNotFound}},
}

// invalidNames are the vectors of the invalid-vectors block: messages that
// Decode must reject.
var invalidNames = []string{
	"too-short",
	"unknown-type-0x06",
	"unknown-type-0x00",
	"connect-payload-2-bytes",
	"continue-payload-3-bytes",
	"continue-payload-5-bytes",
	"close-payload-empty",
	"close-payload-2-bytes",
	"info-payload-1-byte",
	"info-truncated-extension-header",
	"info-truncated-extension-metadata",
	"window-payload-3-bytes",
	"fin-with-payload",
	"opened-bad-address-length",
	"opened-local-missing",
	"opened-trailing-byte",
	"accept-payload-3-bytes",
	"resolve-empty-name",
	"resolved-truncated-name",
	"resolved-unknown-query-type",
	"resolved-records-after-failure",
}

func TestVectors(t *testing.T) {
	vs := readVectors(t, "vectors")
	inDoc := map[string]bool{}
	for _, v := range vs {
		inDoc[v.Name] = true
		want, ok := validPackets[v.Name]
		if !ok {
			t.Errorf("%s:%d: vector %q has no expected packet in validPackets", protocolDoc, v.Line, v.Name)
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			got, err := wisp.Decode(v.Msg)
			if err != nil {
				t.Fatalf("Decode(%s): %v", formatHex(v.Msg), err)
			}
			if !packetsEqual(got, want) {
				t.Errorf("Decode(%s)\n got %s\nwant %s", formatHex(v.Msg), dump(got), dump(want))
			}
			enc := want.Append(nil)
			if !bytes.Equal(enc, v.Msg) {
				t.Errorf("Append(%s)\n got %s\nwant %s", dump(want), formatHex(enc), formatHex(v.Msg))
			}
			// Append must append, leaving what is already there alone.
			prefix := []byte{0xaa, 0xbb}
			if enc := want.Append(prefix); !bytes.Equal(enc[:2], prefix) || !bytes.Equal(enc[2:], v.Msg) {
				t.Errorf("Append with a prefix gave %s", formatHex(enc))
			}
		})
	}
	for name := range validPackets {
		if !inDoc[name] {
			t.Errorf("validPackets has %q, which the vectors block of %s lacks", name, protocolDoc)
		}
	}
}

func TestInvalidVectors(t *testing.T) {
	vs := readVectors(t, "invalid-vectors")
	inDoc := map[string]bool{}
	known := map[string]bool{}
	for _, n := range invalidNames {
		known[n] = true
	}
	for _, v := range vs {
		inDoc[v.Name] = true
		if !known[v.Name] {
			t.Errorf("%s:%d: invalid vector %q is not listed in invalidNames", protocolDoc, v.Line, v.Name)
		}
		p, err := wisp.Decode(v.Msg)
		var de *wisp.DecodeError
		if !errors.As(err, &de) {
			t.Errorf("%s: Decode(%s) = %s, %v; want a *wisp.DecodeError", v.Name, formatHex(v.Msg), dump(p), err)
			continue
		}
		if de.Len != len(v.Msg) {
			t.Errorf("%s: DecodeError.Len = %d, want %d", v.Name, de.Len, len(v.Msg))
		}
		if !strings.HasPrefix(de.Error(), "wisp: malformed ") {
			t.Errorf("%s: error text %q", v.Name, de.Error())
		}
	}
	for _, n := range invalidNames {
		if !inDoc[n] {
			t.Errorf("invalidNames has %q, which the invalid-vectors block of %s lacks", n, protocolDoc)
		}
	}
}

// TestVectorBlocksAreWellFormed checks the parser on a few bad blocks, so
// that a typo in the document fails loudly rather than dropping a vector.
func TestVectorBlocksAreWellFormed(t *testing.T) {
	for _, doc := range []string{
		"```vectors\nfin: F1 01 00 00 00\n```\n",                      // upper case
		"```vectors\nfin: f1 01  00 00 00\n```\n",                     // double space
		"```vectors\nfin: f101 00 00 00\n```\n",                       // pairs not separated
		"```vectors\nfin f1 01 00 00 00\n```\n",                       // no colon
		"```vectors\nfin: f1 01 00 00 00\nfin: f1 01 00 00 00\n```\n", // twice
		"```vectors\nfin: f1 01 00 00 00\n",                           // not closed
		"```vectors\n```\n```vectors\n```\n",                          // two blocks
	} {
		if _, err := protodoc.Parse([]byte(doc), "vectors"); err == nil {
			t.Errorf("Parse(%q) succeeded", doc)
		}
	}
	vs, err := protodoc.Parse([]byte("text\n```vectors\n\nfin: f1 01 00 00 00\n```\n```invalid-vectors\nx: 00\n```\n"), "vectors")
	if err != nil || len(vs) != 1 || vs[0].Name != "fin" || !bytes.Equal(vs[0].Msg, []byte{0xf1, 1, 0, 0, 0}) {
		t.Errorf("parseVectors = %v, %v", vs, err)
	}
}

// packetsEqual compares packets field by field, taking a nil slice and an
// empty one as equal: Decode makes empty payloads alias the message.
func packetsEqual(a, b wisp.Packet) bool {
	if a.Type != b.Type || a.Stream != b.Stream || a.Connect != b.Connect ||
		!bytes.Equal(a.Data, b.Data) || a.Credit != b.Credit || a.Reason != b.Reason ||
		a.Opened != b.Opened || a.Accept != b.Accept || a.Query != b.Query ||
		!answersEqual(a.Answer, b.Answer) ||
		a.Info.Major != b.Info.Major || a.Info.Minor != b.Info.Minor ||
		len(a.Info.Extensions) != len(b.Info.Extensions) {
		return false
	}
	for i, e := range a.Info.Extensions {
		f := b.Info.Extensions[i]
		if e.ID != f.ID || !bytes.Equal(e.Data, f.Data) {
			return false
		}
	}
	return true
}

func answersEqual(a, b wisp.Answer) bool {
	return a.Type == b.Type && a.Status == b.Status && a.CNAME == b.CNAME &&
		slices.Equal(a.IPs, b.IPs) && slices.Equal(a.MX, b.MX) &&
		slices.Equal(a.SRV, b.SRV) && slices.Equal(a.TXT, b.TXT)
}

func dump(p wisp.Packet) string {
	s := fmt.Sprintf("%v stream=%d", p.Type, p.Stream)
	switch p.Type {
	case wisp.TypeConnect:
		s += fmt.Sprintf(" %v port=%d host=%q", p.Connect.StreamType, p.Connect.Port, p.Connect.Host)
	case wisp.TypeData:
		s += fmt.Sprintf(" data=%q", p.Data)
	case wisp.TypeContinue, wisp.TypeWindow:
		s += fmt.Sprintf(" credit=%d", p.Credit)
	case wisp.TypeClose:
		s += fmt.Sprintf(" reason=0x%02x", uint8(p.Reason))
	case wisp.TypeInfo:
		s += fmt.Sprintf(" v%d.%d", p.Info.Major, p.Info.Minor)
		for _, e := range p.Info.Extensions {
			s += fmt.Sprintf(" ext(0x%02x %x)", uint8(e.ID), e.Data)
		}
	case wisp.TypeOpened:
		s += fmt.Sprintf(" remote=%v local=%v", p.Opened.Remote, p.Opened.Local)
	}
	return s
}
