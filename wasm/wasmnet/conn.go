package wasmnet

import (
	"errors"
	"io"
	"math"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/wisp"
)

var _ net.Conn = (*Conn)(nil)

// smallPayload is the largest DATA payload that is copied into a shared
// chunk instead of keeping the message buffer it arrived in.
const smallPayload = 2 << 10

// noWindowLimit is how many bytes a stream may hold when the bridge does
// not honour a receive window. Past it, the session stops reading.
const noWindowLimit = 256 << 10

// maxDatagram is the largest UDP payload a Write may send: the most an
// IPv4 datagram can carry.
const maxDatagram = 65507

// Conn is a TCP or UDP stream through the bridge. It implements net.Conn,
// with deadlines per direction, and for TCP CloseWrite when the bridge
// supports half-close. A UDP Conn keeps datagram boundaries: each Write
// sends one datagram and each Read returns one, as a connected
// *net.UDPConn does.
type Conn struct {
	s        *session
	id       uint32
	network  string
	datagram bool // UDP

	rdMu, wrMu sync.Mutex // one Read and one Write at a time
	rd, wd     *deadline

	closed    chan struct{} // closed by Close
	closeOnce sync.Once
	opened    chan struct{} // closed by OPENED or by a CLOSE before it

	mu         sync.Mutex
	laddr      net.Addr
	raddr      net.Addr
	openErr    error   // why the bridge refused the stream
	chunks     []chunk // received data, oldest first
	buffered   int     // bytes in chunks
	unacked    int     // bytes read but not yet returned in a WINDOW
	readErr    error   // io.EOF or the cause, once chunks are drained
	writeErr   error   // set by CloseWrite, remote close or session loss
	remoteDone bool    // the bridge closed the stream: no CLOSE to send
	credit     uint32  // DATA packets the bridge lets us send
	readable   chan struct{}
	writable   chan struct{}
	drained    chan struct{} // closed when buffered falls below noWindowLimit
}

// chunk is received data: buf[off:] is unread. A chunk either keeps the
// message buffer it arrived in, or collects small payloads.
type chunk struct {
	buf     []byte
	off     int
	collect bool
}

func newConn(s *session, network string, raddr net.Addr) *Conn {
	return &Conn{
		s:        s,
		network:  network,
		datagram: network == "udp",
		rd:       newDeadline(),
		wd:       newDeadline(),
		closed:   make(chan struct{}),
		opened:   make(chan struct{}),
		laddr:    zeroAddr(network),
		raddr:    raddr,
		credit:   s.credit,
		readable: make(chan struct{}, 1),
		writable: make(chan struct{}, 1),
	}
}

// Read reads data the bridge relayed from the remote end. It returns io.EOF
// once the remote end has finished sending.
func (c *Conn) Read(b []byte) (int, error) {
	c.rdMu.Lock()
	defer c.rdMu.Unlock()
	for {
		if isClosed(c.closed) {
			return 0, c.opError("read", net.ErrClosed)
		}
		if isClosed(c.rd.wait()) {
			return 0, c.opError("read", errTimeout)
		}
		c.mu.Lock()
		if len(c.chunks) > 0 { // not buffered > 0: an empty datagram is one
			n, ack := c.take(b)
			c.mu.Unlock()
			if ack > 0 {
				c.s.control(windowPacket(c.id, ack))
			}
			return n, nil
		}
		err := c.readErr
		c.mu.Unlock()
		switch {
		case err == io.EOF:
			return 0, io.EOF
		case err != nil:
			return 0, c.opError("read", err)
		case len(b) == 0:
			return 0, nil
		}

		select {
		case <-c.readable:
		case <-c.rd.wait():
		case <-c.closed:
		}
	}
}

// take copies buffered data into b; mu is held. It returns how many bytes
// to return to the bridge in a WINDOW packet. A datagram is taken whole:
// what does not fit in b is lost, as with a UDP socket.
func (c *Conn) take(b []byte) (n, ack int) {
	if c.datagram {
		ch := c.chunks[0]
		n = copy(b, ch.buf[ch.off:])
		size := len(ch.buf) - ch.off
		buffer.Put(ch.buf)
		c.chunks[0] = chunk{}
		c.chunks = c.chunks[1:]
		c.buffered -= size
		return n, c.acknowledge(size)
	}
	for n < len(b) && len(c.chunks) > 0 {
		ch := &c.chunks[0]
		m := copy(b[n:], ch.buf[ch.off:])
		n += m
		ch.off += m
		if ch.off == len(ch.buf) {
			buffer.Put(ch.buf)
			c.chunks[0] = chunk{}
			c.chunks = c.chunks[1:]
		}
	}
	if len(c.chunks) == 0 {
		c.chunks = nil
	}
	c.buffered -= n
	if c.drained != nil && c.buffered < noWindowLimit {
		close(c.drained)
		c.drained = nil
	}
	return n, c.acknowledge(n)
}

// acknowledge counts n bytes read and returns how many to give back to the
// bridge now: once a quarter of the window has been read. The bridge then
// always has three quarters of the window left, so it never waits for the
// rest; granting whenever the buffer ran empty too cost a WINDOW per Read
// of a program that keeps up. mu is held.
func (c *Conn) acknowledge(n int) (ack int) {
	if c.s.feat.window {
		c.unacked += n
		if c.unacked >= int(c.s.window/4) {
			ack, c.unacked = c.unacked, 0
		}
	}
	return ack
}

// deliver queues a DATA payload that arrived in msg, taking ownership of
// msg. If the stream holds too much and the bridge ignores our window, it
// returns a channel to wait on before reading the next message.
func (c *Conn) deliver(msg, payload []byte) (<-chan struct{}, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if isClosed(c.closed) || c.readErr != nil || (len(payload) == 0 && !c.datagram) {
		buffer.Put(msg)
		return nil, nil
	}
	if c.s.feat.window && c.buffered+len(payload) > int(c.s.window) {
		// The bridge broke the window it agreed to; the session cannot be
		// trusted to stay bounded.
		buffer.Put(msg)
		return nil, errWindowOverrun
	}
	if c.datagram {
		// A datagram the program has no room for is lost, as UDP may lose
		// it; without a window, that is how the stream stays bounded.
		if c.buffered+len(payload) > noWindowLimit {
			buffer.Put(msg)
			return nil, nil
		}
		c.buffered += len(payload)
		if len(payload) <= smallPayload {
			c.chunks = append(c.chunks, chunk{buf: append(buffer.Get(len(payload))[:0], payload...)})
			buffer.Put(msg)
		} else {
			c.chunks = append(c.chunks, chunk{buf: msg, off: len(msg) - len(payload)})
		}
		signal(c.readable)
		return nil, nil
	}
	c.buffered += len(payload)
	if len(payload) <= smallPayload {
		if n := len(c.chunks); n > 0 && c.chunks[n-1].collect && cap(c.chunks[n-1].buf)-len(c.chunks[n-1].buf) >= len(payload) {
			c.chunks[n-1].buf = append(c.chunks[n-1].buf, payload...)
		} else {
			buf := append(buffer.Get(buffer.Chunk)[:0], payload...)
			c.chunks = append(c.chunks, chunk{buf: buf, collect: true})
		}
		buffer.Put(msg)
	} else {
		c.chunks = append(c.chunks, chunk{buf: msg, off: len(msg) - len(payload)})
	}
	signal(c.readable)
	if !c.s.feat.window && c.buffered >= noWindowLimit {
		if c.drained == nil {
			c.drained = make(chan struct{})
		}
		return c.drained, nil
	}
	return nil, nil
}

// Write sends b to the remote end through the bridge. It returns once the
// data is queued for the bridge; Wisp's credit and a bounded queue make it
// wait when the bridge or the remote end is slow.
func (c *Conn) Write(b []byte) (int, error) {
	c.wrMu.Lock()
	defer c.wrMu.Unlock()
	n := 0
	for {
		if isClosed(c.closed) {
			return n, c.opError("write", net.ErrClosed)
		}
		if isClosed(c.wd.wait()) {
			return n, c.opError("write", errTimeout)
		}
		if c.datagram {
			return c.writeDatagram(b)
		}
		if len(b) == 0 {
			return n, nil
		}
		c.mu.Lock()
		err := c.writeErr
		ok := err == nil && c.credit > 0
		if ok {
			c.credit--
		}
		c.mu.Unlock()
		if err != nil {
			return n, c.opError("write", err)
		}
		if m := c.s.coalesce(c.id, b[:min(len(b), maxData)]); m > 0 {
			// The stream's last packet was still waiting for the
			// WebSocket and took the bytes: no packet, so no credit.
			if ok {
				c.mu.Lock()
				c.credit++
				c.mu.Unlock()
			}
			n += m
			b = b[m:]
			continue
		}
		if !ok {
			select {
			case <-c.writable:
			case <-c.wd.wait():
			case <-c.closed:
			}
			continue
		}

		size := min(len(b), maxData)
		msg := buffer.Get(wisp.HeaderLen + size)
		wisp.PutHeader(msg, wisp.TypeData, c.id)
		copy(msg[wisp.HeaderLen:], b[:size])
		if err := c.s.send(msg, c.wd.wait(), c.closed); err != nil {
			c.mu.Lock()
			c.credit++
			c.mu.Unlock()
			return n, c.opError("write", err)
		}
		n += size
		b = b[size:]
	}
}

// writeDatagram sends b as one datagram. UDP streams have no credit; the
// queue to the bridge still bounds them. wrMu is held.
func (c *Conn) writeDatagram(b []byte) (int, error) {
	if len(b) > maxDatagram {
		return 0, c.opError("write", syscall.EMSGSIZE)
	}
	c.mu.Lock()
	err := c.writeErr
	c.mu.Unlock()
	if err != nil {
		return 0, c.opError("write", err)
	}
	msg := buffer.Get(wisp.HeaderLen + len(b))
	wisp.PutHeader(msg, wisp.TypeData, c.id)
	copy(msg[wisp.HeaderLen:], b)
	if err := c.s.send(msg, c.wd.wait(), c.closed); err != nil {
		return 0, c.opError("write", err)
	}
	return len(b), nil
}

// Close closes the stream. Pending Reads and Writes return errors wrapping
// net.ErrClosed. Data already written is still delivered: the bridge
// writes it out before it closes the remote socket.
func (c *Conn) Close() error {
	first := false
	c.closeOnce.Do(func() {
		first = true
		close(c.closed)
	})
	if !first {
		return c.opError("close", net.ErrClosed)
	}
	c.rd.stop()
	c.wd.stop()
	c.s.remove(c.id)
	c.mu.Lock()
	for _, ch := range c.chunks {
		buffer.Put(ch.buf)
	}
	c.chunks, c.buffered = nil, 0
	remoteDone := c.remoteDone
	c.remoteDone = true
	c.mu.Unlock()
	if !remoteDone {
		c.s.control(closePacket(c.id, wisp.ReasonVoluntary))
	}
	return nil
}

// CloseWrite shuts down the sending side: the remote end reads EOF once it
// has read everything written before. Reading goes on. It needs a bridge
// that supports the half-close extension.
func (c *Conn) CloseWrite() error {
	if c.datagram {
		return c.opError("close", errors.New("a UDP stream cannot half-close"))
	}
	if !c.s.feat.halfClose {
		return c.opError("close", errNoHalfClose)
	}
	c.wrMu.Lock()
	defer c.wrMu.Unlock()
	if isClosed(c.closed) {
		return c.opError("close", net.ErrClosed)
	}
	c.mu.Lock()
	err := c.writeErr
	if err == nil {
		c.writeErr = syscall.EPIPE
	}
	c.mu.Unlock()
	if err != nil {
		if err == syscall.EPIPE {
			return nil // already shut down
		}
		return c.opError("close", err)
	}
	msg := wisp.AppendHeader(buffer.Get(wisp.HeaderLen)[:0], wisp.TypeFin, c.id)
	c.s.control(msg)
	return nil
}

// LocalAddr returns the address of the bridge's socket for this stream,
// when the bridge reports it.
func (c *Conn) LocalAddr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.laddr
}

// RemoteAddr returns the address the bridge connected to. Before a bridge
// without the OPENED extension has connected, it is the address dialed.
func (c *Conn) RemoteAddr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.raddr
}

// SetDeadline sets the read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	if isClosed(c.closed) {
		return c.opError("set", net.ErrClosed)
	}
	c.rd.set(t)
	c.wd.set(t)
	return nil
}

// SetReadDeadline sets the deadline for pending and future Reads. A Read
// that times out leaves the stream usable.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if isClosed(c.closed) {
		return c.opError("set", net.ErrClosed)
	}
	c.rd.set(t)
	return nil
}

// SetWriteDeadline sets the deadline for pending and future Writes. Data
// a timed-out Write had already queued is still sent.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if isClosed(c.closed) {
		return c.opError("set", net.ErrClosed)
	}
	c.wd.set(t)
	return nil
}

// setCredit takes a CONTINUE from the bridge: a new total, or with the
// credit extension an increment.
func (c *Conn) setCredit(n uint32) { c.putCredit(n, c.s.feat.credit) }

// putCredit adds n to the stream's credit, or makes n the credit, and
// wakes a Write that waits for it.
func (c *Conn) putCredit(n uint32, add bool) {
	c.mu.Lock()
	if add {
		c.credit += min(n, math.MaxUint32-c.credit)
	} else {
		c.credit = n
	}
	c.mu.Unlock()
	if n > 0 {
		signal(c.writable)
	}
}

// setOpened takes an OPENED: the bridge has connected.
func (c *Conn) setOpened(o wisp.Opened) {
	c.mu.Lock()
	if o.Remote.IsValid() {
		c.raddr = addrFor(c.network, o.Remote)
	}
	if o.Local.IsValid() {
		c.laddr = addrFor(c.network, o.Local)
	}
	closeOnce(c.opened)
	c.mu.Unlock()
}

// remoteClose takes a CLOSE from the bridge. A voluntary close is the
// remote end's EOF; any other reason is an error for both directions.
func (c *Conn) remoteClose(r wisp.Reason) {
	c.s.remove(c.id)
	var err error = &CloseError{Reason: r}
	c.mu.Lock()
	c.remoteDone = true
	if !isClosed(c.opened) {
		c.openErr = err
	}
	if c.readErr == nil {
		c.readErr = io.EOF
		if r != wisp.ReasonVoluntary || c.datagram {
			c.readErr = err // UDP has no end of stream
		}
	}
	if c.writeErr == nil {
		c.writeErr = syscall.EPIPE
		if r != wisp.ReasonVoluntary {
			c.writeErr = err
		}
	}
	closeOnce(c.opened)
	c.mu.Unlock()
	signal(c.readable)
	signal(c.writable)
}

// remoteFin takes a FIN: the remote end will send no more.
func (c *Conn) remoteFin() {
	c.mu.Lock()
	if c.readErr == nil {
		c.readErr = io.EOF
	}
	c.mu.Unlock()
	signal(c.readable)
}

// sessionLost fails the stream with the session's error.
func (c *Conn) sessionLost(err error) {
	c.mu.Lock()
	c.remoteDone = true
	if !isClosed(c.opened) {
		c.openErr = err
	}
	if c.readErr == nil {
		c.readErr = err
	}
	if c.writeErr == nil || c.writeErr == syscall.EPIPE {
		c.writeErr = err
	}
	closeOnce(c.opened)
	c.mu.Unlock()
	signal(c.readable)
	signal(c.writable)
}

func (c *Conn) opError(op string, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &net.OpError{Op: op, Net: c.network, Source: c.laddr, Addr: c.raddr, Err: err}
}

// signal wakes the one waiter of a channel of capacity 1.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// closeOnce closes c unless it is closed; the caller serializes calls.
func closeOnce(c chan struct{}) {
	if !isClosed(c) {
		close(c)
	}
}

func windowPacket(id uint32, n int) []byte {
	p := wisp.Packet{Type: wisp.TypeWindow, Stream: id, Credit: uint32(n)}
	return p.Append(buffer.Get(wisp.HeaderLen + 4)[:0])
}

func closePacket(id uint32, r wisp.Reason) []byte {
	p := wisp.Packet{Type: wisp.TypeClose, Stream: id, Reason: r}
	return p.Append(buffer.Get(wisp.HeaderLen + 1)[:0])
}

// addrFor is ap as the address type of network.
func addrFor(network string, ap netip.AddrPort) net.Addr {
	if network == "udp" {
		return net.UDPAddrFromAddrPort(ap)
	}
	return net.TCPAddrFromAddrPort(ap)
}

// zeroAddr is the local address before the bridge reports one.
func zeroAddr(network string) net.Addr {
	if network == "udp" {
		return &net.UDPAddr{}
	}
	return &net.TCPAddr{}
}
