package wisp

import (
	"encoding/binary"
	"fmt"
)

// ExtID identifies a protocol extension in INFO.
type ExtID uint8

// Extensions. Wisp defines 0x01 to 0x05; wasmnet's use 0xF0 and up, where
// each extension that adds a packet type gives it the same number.
const (
	ExtUDP      ExtID = 0x01 // UDP streams; no metadata
	ExtPassword ExtID = 0x02 // Wisp password authentication
	ExtMOTD     ExtID = 0x04 // Wisp server message of the day

	ExtWindow    ExtID = 0xF0 // flow control towards the client; the client's metadata is its u32 window
	ExtHalfClose ExtID = 0xF1 // FIN packets for CloseWrite; no metadata
	ExtOpened    ExtID = 0xF2 // OPENED packets confirm a connect; no metadata
	ExtListen    ExtID = 0xF3 // LISTEN and ACCEPT: the bridge listens for the client; no metadata
	ExtResolve   ExtID = 0xF5 // RESOLVE and RESOLVED: DNS lookups on the bridge; no metadata
	ExtCredit    ExtID = 0xF7 // CONTINUE on a stream adds to the credit rather than setting it; no metadata
)

// Version is the Wisp version this package speaks.
const (
	VersionMajor = 2
	VersionMinor = 0
)

// Extension is one entry of the extension list in INFO.
type Extension struct {
	ID   ExtID
	Data []byte
}

// Info is the payload of an INFO packet.
type Info struct {
	Major, Minor uint8
	Extensions   []Extension
}

// Ext returns the entry for id and whether it is present.
func (i *Info) Ext(id ExtID) (Extension, bool) {
	for _, e := range i.Extensions {
		if e.ID == id {
			return e, true
		}
	}
	return Extension{}, false
}

func (i *Info) append(b []byte) []byte {
	b = append(b, i.Major, i.Minor)
	for _, e := range i.Extensions {
		b = append(b, byte(e.ID))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.Data)))
		b = append(b, e.Data...)
	}
	return b
}

func parseInfo(b []byte) (Info, error) {
	if len(b) < 2 {
		return Info{}, fmt.Errorf("payload is %d bytes, want at least 2", len(b))
	}
	info := Info{Major: b[0], Minor: b[1]}
	for rest := b[2:]; len(rest) > 0; {
		if len(rest) < 5 {
			return Info{}, fmt.Errorf("extension entry is %d bytes, shorter than its 5-byte header", len(rest))
		}
		id := ExtID(rest[0])
		n := binary.LittleEndian.Uint32(rest[1:5])
		if uint64(n) > uint64(len(rest)-5) {
			return Info{}, fmt.Errorf("extension 0x%02x claims %d bytes of metadata, %d remain", uint8(id), n, len(rest)-5)
		}
		info.Extensions = append(info.Extensions, Extension{ID: id, Data: rest[5 : 5+n]})
		rest = rest[5+n:]
	}
	return info, nil
}

// WindowData encodes the metadata of ExtWindow: the client's initial
// receive window per stream, in bytes.
func WindowData(window uint32) []byte {
	return binary.LittleEndian.AppendUint32(nil, window)
}

// ParseWindowData decodes the metadata of ExtWindow.
func ParseWindowData(b []byte) (uint32, error) {
	if len(b) != 4 {
		return 0, fmt.Errorf("wisp: window extension metadata is %d bytes, want 4", len(b))
	}
	return binary.LittleEndian.Uint32(b), nil
}
