//go:build !js && !wasip1

package bridge

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/wisp"
)

// streamingPause is how long a read may hold a buffer waiting for more
// data from a destination that was just sending.
const streamingPause = 20 * time.Millisecond

// stream relays one TCP connection. Three parties move it along: the
// session's read loop queues what the client sends, a writer goroutine
// (running only while there is something to write) writes it to the
// destination, and a reader goroutine sends what the destination sends,
// within the client's window.
type stream struct {
	s    *session
	id   uint32
	dest wisp.Connect
	conn *net.TCPConn // set once dialed

	mu        sync.Mutex
	in        [][]byte // DATA messages from the client, not yet written
	writing   bool     // a writer goroutine is running
	consumed  uint32   // packets written since the last CONTINUE
	finIn     bool     // the client sent FIN: shut down writing once in drains
	closeIn   bool     // the client closed: close once in drains
	readDone  bool     // the destination finished sending
	writeDone bool     // writing to the destination is shut down
	window    int      // bytes the client will still take
	unsent    int      // bytes queued for the client, not yet written to it
	windowCh  chan struct{}
	gone      bool // detached from the session: sends the client nothing more
	aborted   bool // ended: the queue is dropped and the connection closed
	reset     bool // ended with a reset

	active atomic.Int64 // when data last moved, either way (Unix ns)
}

func newStream(s *session, id uint32, c wisp.Connect) *stream {
	st := &stream{
		s:        s,
		id:       id,
		dest:     c,
		window:   noWindow,
		windowCh: make(chan struct{}, 1),
	}
	if s.ext.window {
		st.window = int(s.ext.clientWin)
	}
	st.active.Store(time.Now().UnixNano())
	return st
}

// run dials, then relays from the destination to the client until the
// destination finishes or the stream ends.
func (st *stream) run() {
	ctx, cancel := st.s.dialContext()
	conn, err := st.s.dial(ctx, st.id, st.dest)
	cancel()
	if err != nil {
		st.s.dialFailed(st.id, st.dest, err)
		st.end(connectReason(err), false)
		return
	}
	st.mu.Lock()
	st.conn = conn.(*net.TCPConn)
	aborted, reset, gone := st.aborted, st.reset, st.gone
	st.mu.Unlock()
	if aborted {
		// Ended while dialing: close as end asked.
		st.closeConn(reset)
		return
	}
	if st.s.ext.opened && !gone {
		st.s.control(openedPacket(st.id, conn))
	}
	st.drain()
	// The read loop gets a goroutine of its own, with a small stack:
	// dialing grows this one's to several KiB, which an idle stream would
	// otherwise keep for as long as it is open.
	st.s.wg.Add(1)
	go func() {
		defer st.s.wg.Done()
		st.readLoop()
	}()
}

// runAccepted relays a connection that arrived at a listener: the client
// learns of it from the ACCEPT, which goes out before any of its data.
func (st *stream) runAccepted(listenerID uint32, conn *net.TCPConn) {
	st.mu.Lock()
	st.conn = conn
	st.mu.Unlock()
	p := wisp.Packet{Type: wisp.TypeAccept, Stream: st.id, Accept: wisp.Accept{
		Listener: listenerID,
		Remote:   unmapped(conn.RemoteAddr()),
		Local:    unmapped(conn.LocalAddr()),
	}}
	st.s.control(p.Append(buffer.Get(64)[:0]))
	st.drain()
	st.readLoop()
}

// readLoop sends what the destination sends, never more than the window
// or the stream's buffer allows.
func (st *stream) readLoop() {
	streaming := false // the destination is sending: read without waiting first
	limit := st.s.h.cfg.StreamBuffer
	for {
		st.mu.Lock()
		for (st.window <= 0 || limit > 0 && st.unsent >= limit) && !st.gone {
			st.mu.Unlock()
			select {
			case <-st.windowCh:
			case <-st.s.ctx.Done():
				return
			}
			st.mu.Lock()
		}
		n, gone := min(st.window, buffer.MaxPayload), st.gone
		if limit > 0 {
			n = min(n, limit-st.unsent)
		}
		st.mu.Unlock()
		if gone || !st.s.waitOutRoom(st.windowCh) {
			return
		}

		// Wait until there is data before taking a buffer, so that idle
		// streams hold none. While the destination is sending, read at once
		// instead, under a short deadline: the wait costs a system call per
		// read, and a buffer held through a brief pause costs little.
		if streaming {
			st.conn.SetReadDeadline(time.Now().Add(streamingPause))
		} else if err := waitReadable(st.conn); err != nil {
			st.readFailed(err)
			return
		}
		buf := buffer.Get(wisp.HeaderLen + n)
		m, err := st.conn.Read(buf[wisp.HeaderLen:])
		if streaming && m == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
			buffer.Put(buf)
			st.conn.SetReadDeadline(time.Time{})
			streaming = false
			continue
		}
		streaming = m > 0
		if m > 0 {
			if !st.s.throttle(st.s.down, m) {
				buffer.Put(buf)
				return
			}
			wisp.PutHeader(buf, wisp.TypeData, st.id)
			st.mu.Lock()
			st.window -= m
			st.unsent += m
			gone := st.gone
			st.mu.Unlock()
			if gone {
				buffer.Put(buf)
				return
			}
			st.active.Store(time.Now().UnixNano())
			st.s.outBytes.Add(int64(m))
			st.s.h.stats.bufferedOut.Add(int64(m))
			st.s.h.stats.bytesDown.Add(uint64(m))
			st.s.send(outMsg{buf: buf[:wisp.HeaderLen+m], st: st})
		} else {
			buffer.Put(buf)
		}
		if err != nil {
			st.readFailed(err)
			return
		}
	}
}

// readFailed handles the end of the destination's data.
func (st *stream) readFailed(err error) {
	st.mu.Lock()
	gone := st.gone
	st.mu.Unlock()
	switch {
	case gone:
	case !errors.Is(err, io.EOF):
		st.end(resetReason(err), true)
	case !st.s.ext.halfClose:
		// Plain Wisp has no half-close: the stream ends here.
		st.end(wisp.ReasonVoluntary, false)
	default:
		st.mu.Lock()
		st.readDone = true
		done := st.writeDone
		st.mu.Unlock()
		st.s.control(finPacket(st.id))
		if done {
			st.end(wisp.ReasonVoluntary, false)
		}
	}
}

// clientData queues a DATA message. A client that sends beyond the credit
// it was given loses the stream.
func (st *stream) clientData(msg []byte, n int) {
	st.mu.Lock()
	if st.gone || st.finIn || n == 0 {
		st.mu.Unlock()
		buffer.Put(msg)
		return
	}
	// The grants of writeLoop only return packets already written, so an
	// honest client never has more than the credit queued here, whether it
	// takes CONTINUE as a new total or adds it up.
	if len(st.in) >= int(st.s.h.cfg.Credit) {
		st.mu.Unlock()
		buffer.Put(msg)
		st.s.h.stats.limit(limitCredit)
		st.s.log.Warn("client exceeded its credit", "stream", st.id)
		st.end(wisp.ReasonCreditExceeded, true)
		return
	}
	if l := st.s.inLimit(n); l != 0 {
		st.mu.Unlock()
		buffer.Put(msg)
		st.s.h.stats.limit(l)
		st.s.log.Info("stream closed: "+l.String()+" limit", "stream", st.id)
		st.end(wisp.ReasonThrottled, true)
		return
	}
	st.in = append(st.in, msg)
	st.s.inBytes.Add(int64(n))
	st.s.h.stats.bufferedIn.Add(int64(n))
	st.active.Store(time.Now().UnixNano())
	st.mu.Unlock()
	st.drain()
}

// drain starts whatever the write side needs next, unless a writer is
// running or the stream is not connected yet: writing queued data, then
// the close or FIN the client asked for.
func (st *stream) drain() {
	st.mu.Lock()
	if st.conn == nil || st.writing || st.aborted {
		st.mu.Unlock()
		return
	}
	if len(st.in) > 0 {
		st.writing = true
		st.mu.Unlock()
		go st.writeLoop()
		return
	}
	closeIn, fin := st.closeIn, st.finIn && !st.writeDone
	st.mu.Unlock()
	switch {
	case closeIn:
		st.closeConn(false)
	case fin:
		st.shutdownWrite()
	}
}

// writeLoop writes queued data to the destination and returns credit to
// the client. It exits when the queue is empty.
func (st *stream) writeLoop() {
	credit := st.s.h.cfg.Credit
	share := uint32(2)
	if st.s.ext.credit {
		share = 8
	}
	grantAt := max((credit+share-1)/share, 1) // packets written per grant
	var batch [][]byte
	var bufs net.Buffers
	for {
		st.mu.Lock()
		if len(st.in) == 0 || st.aborted {
			st.writing = false
			st.mu.Unlock()
			st.drain()
			return
		}
		// What has queued up goes out in one writev: a client ahead of
		// the destination then costs a system call per batch, not per
		// packet. A batch ends where the next grant is due, so grants
		// come as often, and are as large, as with a write per packet.
		k := len(st.in)
		if st.consumed < grantAt {
			k = min(k, int(grantAt-st.consumed))
		}
		batch = append(batch[:0], st.in[:k]...)
		clear(st.in[:k])
		st.in = st.in[k:]
		st.mu.Unlock()

		var err error
		var written int64
		bufs = bufs[:0]
		for _, msg := range batch {
			payload := msg[wisp.HeaderLen:]
			if !st.s.throttle(st.s.up, len(payload)) {
				err = net.ErrClosed
				break
			}
			bufs = append(bufs, payload)
		}
		if err == nil {
			parts := bufs // WriteTo consumes its slice
			written, err = parts.WriteTo(st.conn)
		}
		clear(bufs)
		for i, msg := range batch {
			n := len(msg) - wisp.HeaderLen
			st.s.inBytes.Add(int64(-n))
			st.s.h.stats.bufferedIn.Add(int64(-n))
			buffer.Put(msg)
			batch[i] = nil
		}
		st.s.h.stats.bytesUp.Add(uint64(written))
		st.active.Store(time.Now().UnixNano())
		if err != nil {
			st.mu.Lock()
			st.writing = false
			st.mu.Unlock()
			st.end(resetReason(err), true)
			return
		}

		// CONTINUE returns exactly the packets written since the last one,
		// once they are at least a share of the credit. Granting "credit -
		// len(st.in)" instead let a client that sets its credit to the
		// value, as Wisp says, send a full credit per grant: the packets in
		// flight are not in st.in, so what was queued or in flight doubled
		// every round trip. With grants that add up to the packets
		// written, a client has at most the credit outstanding, whether it
		// sets its credit to each grant or adds them up.
		//
		// The share is half for a client that sets: it has at most half
		// the credit left when a grant arrives, so resetting to the grant
		// never loses it any. A client that adds (the credit extension)
		// loses nothing to a small grant, and an eighth keeps it sending
		// where half the credit left it waiting for each CONTINUE.
		st.mu.Lock()
		st.consumed += uint32(k)
		var grant uint32
		if st.consumed >= grantAt && !st.gone {
			grant, st.consumed = st.consumed, 0
		}
		st.mu.Unlock()
		if grant > 0 {
			st.s.control(continuePacket(st.id, grant))
		}
	}
}

// shutdownWrite passes the client's FIN on to the destination.
func (st *stream) shutdownWrite() {
	err := st.conn.CloseWrite()
	st.mu.Lock()
	st.writeDone = true
	done := st.readDone
	st.mu.Unlock()
	switch {
	case err != nil:
		st.end(resetReason(err), true)
	case done:
		st.end(wisp.ReasonVoluntary, false)
	}
}

// clientFin takes a FIN from the client.
func (st *stream) clientFin() {
	st.mu.Lock()
	st.finIn = true
	st.mu.Unlock()
	st.drain()
}

// clientClose takes a CLOSE from the client. Wisp sends no CLOSE back. A
// voluntary or unspecified close (wisp-js closes with 0x01) still writes
// out what the client sent, as closing a TCP socket would; a reason that
// reports an error resets the connection at once.
func (st *stream) clientClose(r wisp.Reason) {
	if r != wisp.ReasonVoluntary && r != wisp.ReasonUnknown {
		st.end(0, true)
		return
	}
	st.mu.Lock()
	st.closeIn = true
	st.mu.Unlock()
	st.detach(0)
	st.drain()
}

// grant adds to the window the bytes the client read (WINDOW).
func (st *stream) grant(n int) {
	st.mu.Lock()
	st.window = min(st.window+n, 1<<30)
	st.mu.Unlock()
	wake(st.windowCh)
}

// sent takes back n bytes written to the client: they no longer count
// against the stream's buffer, and for a client without flow control they
// return to the window.
func (st *stream) sent(n int) {
	limit := st.s.h.cfg.StreamBuffer
	st.mu.Lock()
	// Wake the reader only if this may be what it waits for: a wake per
	// packet while it waits for the client's window cost a trip through
	// the scheduler for nothing.
	woke := limit > 0 && st.unsent >= limit
	st.unsent -= n
	if !st.s.ext.window {
		st.window = min(st.window+n, 1<<30)
		woke = true
	}
	st.mu.Unlock()
	if woke {
		wake(st.windowCh)
	}
}

// idleSince is when data last moved on the stream.
func (st *stream) idleSince() int64 { return st.active.Load() }

// end finishes the stream: it tells the client why (unless r is zero),
// drops what is queued and closes the connection, with a reset if asked.
func (st *stream) end(r wisp.Reason, reset bool) {
	st.detach(r)
	st.mu.Lock()
	in := st.in
	st.in = nil
	st.aborted = true
	st.reset = st.reset || reset
	st.mu.Unlock()
	for _, msg := range in {
		n := int64(len(msg) - wisp.HeaderLen)
		st.s.inBytes.Add(-n)
		st.s.h.stats.bufferedIn.Add(-n)
		buffer.Put(msg)
	}
	st.closeConn(reset)
}

// detach removes the stream from the session, after which it sends the
// client nothing more and its ID may be reused; with a reason, it tells
// the client with a CLOSE. It reports whether this call did it.
func (st *stream) detach(r wisp.Reason) bool {
	st.mu.Lock()
	if st.gone {
		st.mu.Unlock()
		return false
	}
	st.gone = true
	st.mu.Unlock()
	wake(st.windowCh)
	return st.s.remove(st.id, r)
}

// closeConn closes the connection, with a reset if asked.
func (st *stream) closeConn(reset bool) {
	st.mu.Lock()
	conn := st.conn
	st.mu.Unlock()
	if conn == nil {
		return
	}
	if reset {
		conn.SetLinger(0)
	}
	conn.Close()
}

func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func openedPacket(id uint32, conn net.Conn) []byte {
	p := wisp.Packet{Type: wisp.TypeOpened, Stream: id, Opened: wisp.Opened{
		Remote: unmapped(conn.RemoteAddr()),
		Local:  unmapped(conn.LocalAddr()),
	}}
	return p.Append(buffer.Get(64)[:0])
}

// unmapped is the address of a TCP or UDP socket, with an IPv4-mapped
// address given as IPv4; invalid for anything else.
func unmapped(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func finPacket(id uint32) []byte {
	return wisp.AppendHeader(buffer.Get(wisp.HeaderLen)[:0], wisp.TypeFin, id)
}
