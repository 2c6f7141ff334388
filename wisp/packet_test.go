package wisp_test

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/wasmnet/wasmnet/wisp"
)

func TestTypeString(t *testing.T) {
	for typ, want := range map[wisp.Type]string{
		wisp.TypeConnect:  "CONNECT",
		wisp.TypeData:     "DATA",
		wisp.TypeContinue: "CONTINUE",
		wisp.TypeClose:    "CLOSE",
		wisp.TypeInfo:     "INFO",
		wisp.TypeWindow:   "WINDOW",
		wisp.TypeFin:      "FIN",
		wisp.TypeOpened:   "OPENED",
		0x00:              "type 0x00",
		0x06:              "type 0x06",
		0xff:              "type 0xff",
	} {
		if got := typ.String(); got != want {
			t.Errorf("Type(0x%02x).String() = %q, want %q", uint8(typ), got, want)
		}
	}
}

func TestStreamTypeString(t *testing.T) {
	for st, want := range map[wisp.StreamType]string{
		wisp.StreamTCP: "tcp",
		wisp.StreamUDP: "udp",
		0x00:           "stream type 0x00",
		0x03:           "stream type 0x03",
	} {
		if got := st.String(); got != want {
			t.Errorf("StreamType(0x%02x).String() = %q, want %q", uint8(st), got, want)
		}
	}
}

func TestReasonString(t *testing.T) {
	// Every named reason has its own text; unnamed ones show the number.
	named := []wisp.Reason{
		wisp.ReasonUnknown, wisp.ReasonVoluntary, wisp.ReasonNetworkError,
		wisp.ReasonIncompatible, wisp.ReasonInvalid, wisp.ReasonUnreachable,
		wisp.ReasonConnectTimeout, wisp.ReasonRefused, wisp.ReasonTransferTimeout,
		wisp.ReasonBlocked, wisp.ReasonThrottled, wisp.ReasonClientError,
		wisp.ReasonCreditExceeded, wisp.ReasonUnknownStream,
		wisp.ReasonShutdown, wisp.ReasonAddrInUse, wisp.ReasonListenDisabled, wisp.ReasonPortRange,
	}
	seen := map[string]wisp.Reason{}
	for _, r := range named {
		s := r.String()
		if s == "" || strings.HasPrefix(s, "close reason 0x") {
			t.Errorf("Reason(0x%02x).String() = %q, want a name", uint8(r), s)
		}
		if prev, dup := seen[s]; dup {
			t.Errorf("reasons 0x%02x and 0x%02x share the text %q", uint8(prev), uint8(r), s)
		}
		seen[s] = r
	}
	for r, want := range map[wisp.Reason]string{
		wisp.ReasonVoluntary:      "closed",
		wisp.ReasonRefused:        "connection refused",
		wisp.ReasonBlocked:        "destination blocked by bridge policy",
		wisp.ReasonCreditExceeded: "credit exceeded",
		0x00:                      "close reason 0x00",
		0x45:                      "close reason 0x45",
		0xc0:                      "close reason 0xc0",
	} {
		if got := r.String(); got != want {
			t.Errorf("Reason(0x%02x).String() = %q, want %q", uint8(r), got, want)
		}
	}
}

func TestDecodeErrorText(t *testing.T) {
	for _, tc := range []struct {
		msg  []byte
		want string
	}{
		{[]byte{0x02, 0x01}, "wisp: malformed packet: message is 2 bytes, shorter than the 5-byte header"},
		{[]byte{0x03, 0x07, 0, 0, 0, 1}, "wisp: malformed CONTINUE packet on stream 7: payload is 1 bytes, want 4"},
		{[]byte{0x06, 0x01, 0, 0, 0}, "wisp: malformed type 0x06 packet on stream 1: unknown packet type"},
		{[]byte{0xf2, 0x01, 0, 0, 0, 3}, "wisp: malformed OPENED packet on stream 1: address length is 3, want 0, 4 or 16"},
	} {
		_, err := wisp.Decode(tc.msg)
		var de *wisp.DecodeError
		if !errors.As(err, &de) {
			t.Errorf("Decode(%x) = %v, want a *DecodeError", tc.msg, err)
			continue
		}
		if de.Error() != tc.want {
			t.Errorf("Decode(%x) error = %q, want %q", tc.msg, de.Error(), tc.want)
		}
	}
}

func TestInfoExt(t *testing.T) {
	info := wisp.Info{Major: 2, Extensions: []wisp.Extension{
		{ID: wisp.ExtUDP},
		{ID: wisp.ExtWindow, Data: wisp.WindowData(1234)},
		{ID: wisp.ExtWindow, Data: []byte{9}}, // a duplicate: the first wins
	}}
	e, ok := info.Ext(wisp.ExtWindow)
	if !ok || e.ID != wisp.ExtWindow || !bytes.Equal(e.Data, wisp.WindowData(1234)) {
		t.Errorf("Ext(ExtWindow) = %v, %v", e, ok)
	}
	if e, ok := info.Ext(wisp.ExtUDP); !ok || e.ID != wisp.ExtUDP || len(e.Data) != 0 {
		t.Errorf("Ext(ExtUDP) = %v, %v", e, ok)
	}
	if e, ok := info.Ext(wisp.ExtOpened); ok || e.ID != 0 || e.Data != nil {
		t.Errorf("Ext(ExtOpened) = %v, %v; want absent", e, ok)
	}
	var empty wisp.Info
	if _, ok := empty.Ext(wisp.ExtUDP); ok {
		t.Error("Ext on an empty Info found something")
	}
}

func TestWindowData(t *testing.T) {
	for _, w := range []uint32{0, 1, 65536, 512 << 10, 1 << 30, 0xffffffff} {
		b := wisp.WindowData(w)
		if len(b) != 4 {
			t.Fatalf("WindowData(%d) is %d bytes", w, len(b))
		}
		got, err := wisp.ParseWindowData(b)
		if err != nil || got != w {
			t.Errorf("ParseWindowData(WindowData(%d)) = %d, %v", w, got, err)
		}
	}
	if b := wisp.WindowData(524288); !bytes.Equal(b, []byte{0x00, 0x00, 0x08, 0x00}) {
		t.Errorf("WindowData(524288) = % x, want little-endian 00 00 08 00", b)
	}
	for _, b := range [][]byte{nil, {}, {1, 2, 3}, {1, 2, 3, 4, 5}} {
		if _, err := wisp.ParseWindowData(b); err == nil {
			t.Errorf("ParseWindowData(% x) succeeded", b)
		}
	}
}

func TestHeaderHelpers(t *testing.T) {
	b := make([]byte, wisp.HeaderLen+3)
	wisp.PutHeader(b, wisp.TypeData, 0x0a0b0c0d)
	copy(b[wisp.HeaderLen:], "abc")
	want := []byte{0x02, 0x0d, 0x0c, 0x0b, 0x0a, 'a', 'b', 'c'}
	if !bytes.Equal(b, want) {
		t.Errorf("PutHeader gave % x, want % x", b, want)
	}
	if got := wisp.AppendHeader([]byte{0xee}, wisp.TypeFin, 7); !bytes.Equal(got, []byte{0xee, 0xf1, 7, 0, 0, 0}) {
		t.Errorf("AppendHeader gave % x", got)
	}
	p, err := wisp.Decode(b)
	if err != nil || p.Type != wisp.TypeData || p.Stream != 0x0a0b0c0d || string(p.Data) != "abc" {
		t.Errorf("Decode(PutHeader message) = %+v, %v", p, err)
	}
}

// TestDecodeAliases checks the documented aliasing: DATA and INFO metadata
// point into the message rather than copying it.
func TestDecodeAliases(t *testing.T) {
	msg := []byte{0x02, 1, 0, 0, 0, 'x', 'y'}
	p, err := wisp.Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	msg[5] = 'z'
	if string(p.Data) != "zy" {
		t.Errorf("DATA does not alias the message: %q", p.Data)
	}
	msg = []byte{0x05, 0, 0, 0, 0, 2, 0, 0x04, 1, 0, 0, 0, 'a'}
	p, err = wisp.Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	msg[12] = 'b'
	if e, _ := p.Info.Ext(wisp.ExtMOTD); string(e.Data) != "b" {
		t.Errorf("INFO metadata does not alias the message: %q", e.Data)
	}
}

func TestOpenedMappedAddresses(t *testing.T) {
	// The encoder writes IPv4-mapped IPv6 addresses in the 4-byte form.
	p := wisp.Packet{Type: wisp.TypeOpened, Stream: 1, Opened: wisp.Opened{
		Remote: netip.MustParseAddrPort("[::ffff:192.0.2.10]:443"),
		Local:  netip.AddrPortFrom(netip.Addr{}, 0),
	}}
	enc := p.Append(nil)
	want := []byte{0xf2, 1, 0, 0, 0, 4, 192, 0, 2, 10, 0xbb, 0x01, 0, 0, 0}
	if !bytes.Equal(enc, want) {
		t.Errorf("Append = % x, want % x", enc, want)
	}
	// The 16-byte mapped form still decodes, to a mapped address.
	msg := []byte{0xf2, 1, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 10, 0xbb, 0x01, 0, 0, 0}
	got, err := wisp.Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	if a := got.Opened.Remote.Addr(); !a.Is4In6() || a.Unmap() != netip.MustParseAddr("192.0.2.10") || got.Opened.Remote.Port() != 443 {
		t.Errorf("decoded remote = %v", got.Opened.Remote)
	}
	if got.Opened.Local.IsValid() || got.Opened.Local.Addr().IsValid() {
		t.Errorf("decoded local = %v, want unknown", got.Opened.Local)
	}
}

func TestAppendIgnoresOtherFields(t *testing.T) {
	// Only the fields of the packet's own type are encoded.
	p := wisp.Packet{
		Type: wisp.TypeFin, Stream: 3,
		Data: []byte("x"), Credit: 9, Reason: wisp.ReasonRefused,
		Connect: wisp.Connect{Host: "h"},
	}
	if got := p.Append(nil); !bytes.Equal(got, []byte{0xf1, 3, 0, 0, 0}) {
		t.Errorf("Append = % x", got)
	}
}

func TestResolvedCutsOverlongStrings(t *testing.T) {
	// Lengths are a byte for names and a u16 for texts: longer strings are
	// cut to what the length can say, so the packet still parses.
	long := strings.Repeat("a", 300)
	huge := strings.Repeat("t", 70000)
	for _, a := range []wisp.Answer{
		{Type: wisp.QueryMX, MX: []wisp.MX{{Pref: 1, Host: long}, {Pref: 2, Host: "mx"}}},
		{Type: wisp.QueryCNAME, CNAME: long},
		{Type: wisp.QuerySRV, CNAME: long, SRV: []wisp.SRV{{Port: 5222, Target: long}}},
		{Type: wisp.QueryTXT, TXT: []string{huge, "next"}},
	} {
		p := wisp.Packet{Type: wisp.TypeResolved, Stream: 3, Answer: a}
		got, err := wisp.Decode(p.Append(nil))
		if err != nil {
			t.Fatalf("%v answer: %v", a.Type, err)
		}
		g := got.Answer
		switch a.Type {
		case wisp.QueryMX:
			if len(g.MX) != 2 || g.MX[0].Host != long[:255] || g.MX[1] != a.MX[1] {
				t.Errorf("MX decoded as %d records, first host %d bytes", len(g.MX), len(g.MX[0].Host))
			}
		case wisp.QueryCNAME:
			if g.CNAME != long[:255] {
				t.Errorf("CNAME decoded as %d bytes, want 255", len(g.CNAME))
			}
		case wisp.QuerySRV:
			if g.CNAME != long[:255] || len(g.SRV) != 1 || g.SRV[0].Target != long[:255] || g.SRV[0].Port != 5222 {
				t.Errorf("SRV decoded as %+v", g.SRV)
			}
		case wisp.QueryTXT:
			if len(g.TXT) != 2 || g.TXT[0] != huge[:0xFFFF] || g.TXT[1] != "next" {
				t.Errorf("TXT decoded as %d texts", len(g.TXT))
			}
		}
	}
}
