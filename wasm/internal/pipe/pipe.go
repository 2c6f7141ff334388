// Package pipe frames the byte stream between a wasip1 guest and the wazero
// host (package wasm/host). The guest writes frames to its stdout and reads
// frames from its stdin; stdin is the one channel into a guest that wazero
// polls without blocking the guest.
//
// A frame is a little-endian uint32 length (of what follows), a uint32
// session ID, a one-byte kind and a payload. One pipe carries any number of
// sessions, each one WebSocket to a bridge, opened by the guest.
package pipe

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// Frame kinds.
const (
	KindOpen    = 1 // guest to host: open a WebSocket; payload: URL, then NUL and each subprotocol
	KindOpened  = 2 // host to guest: it is open; payload: the subprotocol the bridge selected
	KindMessage = 3 // either way: one WebSocket message (a Wisp packet)
	KindClose   = 4 // either way: the session is over; payload: why, as text
)

// HeaderLen is the length of a frame header.
const HeaderLen = 9

// MaxPayload bounds a frame's payload, so a confused peer cannot make the
// other side allocate without limit.
const MaxPayload = 1 << 20

// AppendFrame appends a frame to b.
func AppendFrame(b []byte, session uint32, kind byte, payload []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(5+len(payload)))
	b = binary.LittleEndian.AppendUint32(b, session)
	b = append(b, kind)
	return append(b, payload...)
}

// Reader reads frames.
type Reader struct {
	r   *bufio.Reader
	hdr [HeaderLen]byte
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next reads the next frame. Its payload is in a buffer from alloc.
func (r *Reader) Next(alloc func(int) []byte) (session uint32, kind byte, payload []byte, err error) {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		return 0, 0, nil, err
	}
	n := binary.LittleEndian.Uint32(r.hdr[0:4])
	session = binary.LittleEndian.Uint32(r.hdr[4:8])
	kind = r.hdr[8]
	if n < 5 || n-5 > MaxPayload || kind < KindOpen || kind > KindClose {
		return 0, 0, nil, fmt.Errorf("pipe: bad frame header % x: is something else writing to the pipe?", r.hdr)
	}
	payload = alloc(int(n - 5))
	if _, err := io.ReadFull(r.r, payload); err != nil {
		return 0, 0, nil, err
	}
	return session, kind, payload, nil
}
