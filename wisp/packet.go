package wisp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// HeaderLen is the length of the packet header: the type and the stream ID.
const HeaderLen = 5

// Type is the first byte of a packet.
type Type uint8

// Packet types. The first five are Wisp's; the others belong to the wasmnet
// extensions and may only be sent once INFO has shown that both sides
// support the extension of the same number.
const (
	TypeConnect  Type = 0x01
	TypeData     Type = 0x02
	TypeContinue Type = 0x03
	TypeClose    Type = 0x04
	TypeInfo     Type = 0x05

	TypeWindow   Type = 0xF0 // ExtWindow: the client returns receive credit
	TypeFin      Type = 0xF1 // ExtHalfClose: no more DATA in this direction
	TypeOpened   Type = 0xF2 // ExtOpened: the bridge has connected the stream
	TypeListen   Type = 0xF3 // ExtListen: the client asks the bridge to listen
	TypeAccept   Type = 0xF4 // ExtListen: the bridge hands over an incoming connection
	TypeResolve  Type = 0xF5 // ExtResolve: the client asks for DNS records
	TypeResolved Type = 0xF6 // ExtResolve: the bridge answers
)

var typeNames = map[Type]string{
	TypeConnect:  "CONNECT",
	TypeData:     "DATA",
	TypeContinue: "CONTINUE",
	TypeClose:    "CLOSE",
	TypeInfo:     "INFO",
	TypeWindow:   "WINDOW",
	TypeFin:      "FIN",
	TypeOpened:   "OPENED",
	TypeListen:   "LISTEN",
	TypeAccept:   "ACCEPT",
	TypeResolve:  "RESOLVE",
	TypeResolved: "RESOLVED",
}

func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type 0x%02x", uint8(t))
}

// StreamType is the kind of socket a CONNECT asks for.
type StreamType uint8

// Stream types.
const (
	StreamTCP StreamType = 0x01
	StreamUDP StreamType = 0x02
)

func (s StreamType) String() string {
	switch s {
	case StreamTCP:
		return "tcp"
	case StreamUDP:
		return "udp"
	}
	return fmt.Sprintf("stream type 0x%02x", uint8(s))
}

// Packet is one decoded packet. Type selects which payload field is set.
type Packet struct {
	Type   Type
	Stream uint32

	Connect Connect // CONNECT and LISTEN
	Data    []byte  // DATA; Decode makes it alias the message
	Credit  uint32  // CONTINUE (packets) and WINDOW (bytes)
	Reason  Reason  // CLOSE
	Info    Info    // INFO
	Opened  Opened  // OPENED
	Accept  Accept  // ACCEPT
	Query   Query   // RESOLVE
	Answer  Answer  // RESOLVED
}

// Connect is the payload of a CONNECT packet.
type Connect struct {
	StreamType StreamType
	Port       uint16
	Host       string
}

// Opened is the payload of an OPENED packet: the addresses of the socket
// the bridge opened. An address the bridge cannot tell is left invalid.
type Opened struct {
	Remote netip.AddrPort
	Local  netip.AddrPort
}

// Accept is the payload of an ACCEPT packet: a connection arrived at the
// listener opened by the LISTEN on stream Listener, and is now the stream
// that carries the ACCEPT.
type Accept struct {
	Listener uint32
	Remote   netip.AddrPort
	Local    netip.AddrPort
}

// PutHeader writes a packet header into b[:HeaderLen].
func PutHeader(b []byte, t Type, stream uint32) {
	b[0] = byte(t)
	binary.LittleEndian.PutUint32(b[1:HeaderLen], stream)
}

// AppendHeader appends a packet header to b.
func AppendHeader(b []byte, t Type, stream uint32) []byte {
	return binary.LittleEndian.AppendUint32(append(b, byte(t)), stream)
}

// Append appends the encoding of p to b and returns the extended slice.
func (p *Packet) Append(b []byte) []byte {
	b = AppendHeader(b, p.Type, p.Stream)
	switch p.Type {
	case TypeConnect, TypeListen:
		b = append(b, byte(p.Connect.StreamType))
		b = binary.LittleEndian.AppendUint16(b, p.Connect.Port)
		b = append(b, p.Connect.Host...)
	case TypeData:
		b = append(b, p.Data...)
	case TypeContinue, TypeWindow:
		b = binary.LittleEndian.AppendUint32(b, p.Credit)
	case TypeClose:
		b = append(b, byte(p.Reason))
	case TypeInfo:
		b = p.Info.append(b)
	case TypeOpened:
		b = appendAddrPort(b, p.Opened.Remote)
		b = appendAddrPort(b, p.Opened.Local)
	case TypeAccept:
		b = binary.LittleEndian.AppendUint32(b, p.Accept.Listener)
		b = appendAddrPort(b, p.Accept.Remote)
		b = appendAddrPort(b, p.Accept.Local)
	case TypeResolve:
		b = append(append(b, byte(p.Query.Type)), p.Query.Name...)
	case TypeResolved:
		b = p.Answer.append(b)
	}
	return b
}

// Decode parses one message. It checks the payload length of every known
// type and rejects unknown types, so a Packet it returns is well formed.
// Packet.Data and the extension data of an INFO alias msg.
func Decode(msg []byte) (Packet, error) {
	if len(msg) < HeaderLen {
		return Packet{}, &DecodeError{Len: len(msg), Msg: fmt.Sprintf("message is %d bytes, shorter than the %d-byte header", len(msg), HeaderLen)}
	}
	p := Packet{Type: Type(msg[0]), Stream: binary.LittleEndian.Uint32(msg[1:HeaderLen])}
	payload := msg[HeaderLen:]
	bad := func(format string, args ...any) (Packet, error) {
		return Packet{}, &DecodeError{Type: p.Type, Stream: p.Stream, Len: len(msg), Msg: fmt.Sprintf(format, args...)}
	}
	exact := func(n int) bool { return len(payload) == n }

	switch p.Type {
	case TypeConnect, TypeListen:
		if len(payload) < 3 {
			return bad("payload is %d bytes, want at least 3", len(payload))
		}
		p.Connect = Connect{
			StreamType: StreamType(payload[0]),
			Port:       binary.LittleEndian.Uint16(payload[1:3]),
			Host:       string(payload[3:]),
		}
	case TypeData:
		p.Data = payload
	case TypeContinue, TypeWindow:
		if !exact(4) {
			return bad("payload is %d bytes, want 4", len(payload))
		}
		p.Credit = binary.LittleEndian.Uint32(payload)
	case TypeClose:
		if !exact(1) {
			return bad("payload is %d bytes, want 1", len(payload))
		}
		p.Reason = Reason(payload[0])
	case TypeInfo:
		info, err := parseInfo(payload)
		if err != nil {
			return bad("%v", err)
		}
		p.Info = info
	case TypeFin:
		if !exact(0) {
			return bad("payload is %d bytes, want 0", len(payload))
		}
	case TypeOpened:
		var err error
		if p.Opened.Remote, p.Opened.Local, err = parseAddrPair(payload); err != nil {
			return bad("%v", err)
		}
	case TypeAccept:
		if len(payload) < 4 {
			return bad("payload is %d bytes, want at least 4", len(payload))
		}
		p.Accept.Listener = binary.LittleEndian.Uint32(payload)
		var err error
		if p.Accept.Remote, p.Accept.Local, err = parseAddrPair(payload[4:]); err != nil {
			return bad("%v", err)
		}
	case TypeResolve:
		if len(payload) < 2 {
			return bad("payload is %d bytes, want at least 2", len(payload))
		}
		p.Query = Query{Type: QueryType(payload[0]), Name: string(payload[1:])}
	case TypeResolved:
		a, err := parseAnswer(payload)
		if err != nil {
			return bad("%v", err)
		}
		p.Answer = a
	default:
		return bad("unknown packet type")
	}
	return p, nil
}

func appendAddrPort(b []byte, ap netip.AddrPort) []byte {
	switch a := ap.Addr().Unmap(); {
	case a.Is4():
		ip := a.As4()
		b = append(append(b, 4), ip[:]...)
	case a.Is6():
		ip := a.As16()
		b = append(append(b, 16), ip[:]...)
	default:
		b = append(b, 0)
	}
	return binary.LittleEndian.AppendUint16(b, ap.Port())
}

// parseAddrPair parses two addresses that make up the whole of b.
func parseAddrPair(b []byte) (remote, local netip.AddrPort, err error) {
	var rest []byte
	if remote, rest, err = parseAddrPort(b); err == nil {
		local, rest, err = parseAddrPort(rest)
	}
	if err == nil && len(rest) != 0 {
		err = fmt.Errorf("%d bytes after the addresses", len(rest))
	}
	return remote, local, err
}

func parseAddrPort(b []byte) (netip.AddrPort, []byte, error) {
	if len(b) < 1 {
		return netip.AddrPort{}, nil, fmt.Errorf("address is missing")
	}
	n := int(b[0])
	if n != 0 && n != 4 && n != 16 {
		return netip.AddrPort{}, nil, fmt.Errorf("address length is %d, want 0, 4 or 16", n)
	}
	if len(b) < 1+n+2 {
		return netip.AddrPort{}, nil, fmt.Errorf("address is truncated")
	}
	var addr netip.Addr
	switch n {
	case 4:
		addr = netip.AddrFrom4([4]byte(b[1:5]))
	case 16:
		addr = netip.AddrFrom16([16]byte(b[1:17]))
	}
	port := binary.LittleEndian.Uint16(b[1+n:])
	return netip.AddrPortFrom(addr, port), b[1+n+2:], nil
}

// DecodeError reports a message that is not a well-formed packet.
type DecodeError struct {
	Type   Type   // zero if the header was incomplete
	Stream uint32 // stream ID from the header, if there was one
	Len    int    // length of the whole message
	Msg    string
}

func (e *DecodeError) Error() string {
	if e.Type == 0 {
		return "wisp: malformed packet: " + e.Msg
	}
	return fmt.Sprintf("wisp: malformed %v packet on stream %d: %s", e.Type, e.Stream, e.Msg)
}
