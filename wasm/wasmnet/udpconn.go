package wasmnet

import (
	"errors"
	"net"
)

var (
	_ net.Conn       = (*UDPConn)(nil)
	_ net.PacketConn = (*UDPConn)(nil)
)

// UDPConn is a connected UDP stream, as Dial("udp", ...) returns it. Like
// a connected *net.UDPConn it is a net.Conn and a net.PacketConn; libraries
// such as miekg/dns look for the latter to tell datagrams from a byte
// stream.
type UDPConn struct {
	*Conn
}

// ReadFrom reads one datagram, which comes from the remote address.
func (c *UDPConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, err := c.Read(b)
	if err != nil {
		return 0, nil, err
	}
	return n, c.RemoteAddr(), nil
}

// WriteTo writes one datagram to addr, which must be the remote address:
// the stream is connected.
func (c *UDPConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if addr == nil || addr.String() != c.RemoteAddr().String() {
		return 0, c.opError("write", errWriteToConnected)
	}
	return c.Write(b)
}

var errWriteToConnected = errors.New("use of WriteTo with pre-connected connection")
