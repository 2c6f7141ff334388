package services

import (
	"encoding/binary"
	"io"
	"net"
)

// Sink starts a server for upload measurements: it reads until EOF, then
// writes the byte count it read as a big-endian uint64 and closes.
func Sink(addr string) (*Server, error) {
	return Serve(addr, func(_ *Server, c net.Conn) {
		buf := make([]byte, 64<<10)
		var n uint64
		for {
			m, err := c.Read(buf)
			n += uint64(m)
			if err != nil {
				break
			}
		}
		binary.Write(c, binary.BigEndian, n)
	})
}

// Source starts a server for download measurements: it reads a big-endian
// uint64 count, writes that many bytes of a repeating pattern, and closes.
// A count of zero means: write until the client goes away.
func Source(addr string) (*Server, error) {
	return Serve(addr, func(s *Server, c net.Conn) {
		var n uint64
		if err := binary.Read(c, binary.BigEndian, &n); err != nil {
			return
		}
		buf := Pattern(64 << 10)
		for n == 0 || n > 0 {
			chunk := uint64(len(buf))
			if n != 0 && n < chunk {
				chunk = n
			}
			m, err := c.Write(buf[:chunk])
			s.Sent.Add(int64(m))
			if err != nil {
				return
			}
			if n != 0 {
				n -= chunk
				if n == 0 {
					return
				}
			}
		}
	})
}

// Pattern returns n bytes of a fixed pseudo-random pattern, so that a
// misplaced or repeated chunk shows up in a checksum.
func Pattern(n int) []byte {
	b := make([]byte, n)
	var x uint32 = 2463534242
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// Drain reads r to EOF and returns the count.
func Drain(r io.Reader, buf []byte) (int64, error) {
	var n int64
	for {
		m, err := r.Read(buf)
		n += int64(m)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
