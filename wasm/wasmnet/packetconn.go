package wasmnet

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

var _ net.PacketConn = (*PacketConn)(nil)

// PacketConn is an unconnected UDP socket through the bridge, as
// ListenPacket returns it. It implements net.PacketConn.
//
// Wisp's UDP streams are connected, so a PacketConn opens one stream per
// address it writes to, and reads the datagrams of all of them. It can
// therefore only hear from addresses it has written to, as a socket behind
// a NAT does; it cannot wait for datagrams from strangers.
type PacketConn struct {
	d      *Dialer
	rd, wd *deadline

	in        chan datagram // from every stream
	failed    chan struct{} // signalled when a stream fails, to wake ReadFrom
	closeOnce sync.Once
	closed    chan struct{}

	mu    sync.Mutex
	conns map[netip.AddrPort]*Conn
	err   error // the first stream failure not yet reported
}

type datagram struct {
	b    []byte
	from *net.UDPAddr
}

// ListenPacket opens a UDP socket through the default bridge. See
// Dialer.ListenPacket.
func ListenPacket(network, address string) (net.PacketConn, error) {
	return DefaultDialer.ListenPacket(network, address)
}

// ListenPacket opens an unconnected UDP socket through the bridge. The
// network is "udp" ("udp4" and "udp6" are taken as "udp"). The bridge
// chooses the local address, so address must not name a port other than
// 0: ":0", or "" for any.
//
// It opens the session with the bridge, if none is open, so that a bridge
// that cannot be reached, or that offers no UDP, is its error, as a
// socket that cannot be made is net.ListenPacket's.
func (d *Dialer) ListenPacket(network, address string) (net.PacketConn, error) {
	return d.ListenPacketContext(context.Background(), network, address)
}

// ListenPacketContext is ListenPacket with a context that bounds the
// opening of the session.
func (d *Dialer) ListenPacketContext(ctx context.Context, network, address string) (net.PacketConn, error) {
	fail := func(err error) (net.PacketConn, error) {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: nameAddr{network, address}, Err: err}
	}
	switch network {
	case "udp", "udp4", "udp6":
	default:
		return fail(net.UnknownNetworkError(network))
	}
	if address != "" {
		_, port, err := net.SplitHostPort(address)
		if err != nil {
			return fail(err)
		}
		if port != "0" && port != "" {
			return fail(errors.New("the bridge chooses the local port: listen on port 0"))
		}
	}
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	s, err := d.session(ctx)
	if err != nil {
		return fail(err)
	}
	if !s.feat.udp {
		return fail(errors.New("the bridge does not offer UDP"))
	}
	return &PacketConn{
		d:      d,
		rd:     newDeadline(),
		wd:     newDeadline(),
		in:     make(chan datagram, 64),
		failed: make(chan struct{}, 1),
		closed: make(chan struct{}),
		conns:  make(map[netip.AddrPort]*Conn),
	}, nil
}

// ReadFrom returns the next datagram from any address written to. A
// stream that failed (the session was lost, or the bridge closed it) is
// reported once, by the next ReadFrom or the one waiting.
func (p *PacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		if isClosed(p.closed) {
			return 0, nil, p.opError("read", nil, net.ErrClosed)
		}
		if isClosed(p.rd.wait()) {
			return 0, nil, p.opError("read", nil, errTimeout)
		}
		p.mu.Lock()
		err := p.err
		p.err = nil
		p.mu.Unlock()
		if err != nil {
			return 0, nil, p.opError("read", nil, err)
		}
		select {
		case dg := <-p.in:
			return copy(b, dg.b), dg.from, nil
		case <-p.failed:
		case <-p.rd.wait():
		case <-p.closed:
		}
	}
}

// WriteTo sends b as one datagram to addr, a *net.UDPAddr. The first
// datagram to an address opens a stream to it, which waits for the bridge.
func (p *PacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if isClosed(p.closed) {
		return 0, p.opError("write", addr, net.ErrClosed)
	}
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, p.opError("write", addr, errors.New("address is not a *net.UDPAddr"))
	}
	ap := ua.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	c, err := p.conn(ap)
	if err != nil {
		return 0, p.opError("write", addr, err)
	}
	return c.Write(b)
}

// conn returns the stream to ap, opening it if need be.
func (p *PacketConn) conn(ap netip.AddrPort) (*Conn, error) {
	p.mu.Lock()
	c := p.conns[ap]
	p.mu.Unlock()
	if c != nil {
		return c, nil
	}
	// Opening the stream is part of the write: the write deadline and
	// Close bound it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.wd.wait():
		case <-p.closed:
		case <-ctx.Done():
		}
		cancel()
	}()
	nc, err := p.d.DialContext(ctx, "udp", ap.String())
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err
		}
		return nil, err
	}
	c = nc.(*UDPConn).Conn
	c.wd = p.wd // one write deadline for every stream; c is not shared yet
	p.mu.Lock()
	if other := p.conns[ap]; other != nil || isClosed(p.closed) {
		p.mu.Unlock()
		c.Close()
		if other == nil {
			return nil, net.ErrClosed
		}
		return other, nil
	}
	p.conns[ap] = c
	p.mu.Unlock()
	go p.readStream(c, net.UDPAddrFromAddrPort(ap))
	return c, nil
}

// readStream moves one stream's datagrams into the shared queue.
func (p *PacketConn) readStream(c *Conn, from *net.UDPAddr) {
	buf := make([]byte, maxDatagram)
	for {
		n, err := c.Read(buf)
		if err != nil {
			if !isClosed(p.closed) {
				p.mu.Lock()
				delete(p.conns, from.AddrPort())
				if p.err == nil && !errors.Is(err, net.ErrClosed) {
					p.err = errors.Unwrap(err) // the next ReadFrom reports it
				}
				p.mu.Unlock()
				signal(p.failed)
			}
			return
		}
		select {
		case p.in <- datagram{b: append([]byte(nil), buf[:n]...), from: from}:
		case <-p.closed:
			return
		}
	}
}

// Close closes the socket and all its streams.
func (p *PacketConn) Close() error {
	first := false
	p.closeOnce.Do(func() {
		first = true
		close(p.closed)
	})
	if !first {
		return p.opError("close", nil, net.ErrClosed)
	}
	p.rd.stop()
	p.wd.stop()
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return nil
}

// LocalAddr is the unspecified address: each destination has its own
// socket on the bridge, with its own port.
func (p *PacketConn) LocalAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4zero} }

// SetDeadline sets the read and write deadlines.
func (p *PacketConn) SetDeadline(t time.Time) error {
	p.rd.set(t)
	p.wd.set(t)
	return nil
}

// SetReadDeadline sets the deadline for ReadFrom.
func (p *PacketConn) SetReadDeadline(t time.Time) error {
	p.rd.set(t)
	return nil
}

// SetWriteDeadline sets the deadline for WriteTo, opening a stream
// included.
func (p *PacketConn) SetWriteDeadline(t time.Time) error {
	p.wd.set(t)
	return nil
}

func (p *PacketConn) opError(op string, addr net.Addr, err error) error {
	return &net.OpError{Op: op, Net: "udp", Source: p.LocalAddr(), Addr: addr, Err: err}
}
