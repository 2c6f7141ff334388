//go:build !js && !wasip1

package bridge

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/wisp"
)

// maxPending bounds the datagrams a UDP stream keeps while its socket is
// still being opened; later ones are dropped, as UDP may.
const maxPending = 16

// udpStream relays datagrams between a client and one destination, over a
// connected UDP socket. Each DATA is one datagram. UDP streams get no
// CONTINUE; when the client's window is spent, datagrams from the
// destination are dropped rather than queued.
type udpStream struct {
	s    *session
	id   uint32
	dest wisp.Connect

	mu      sync.Mutex
	conn    *net.UDPConn
	pending [][]byte // datagrams from the client before conn was ready
	window  int
	unsent  int // bytes queued for the client, not yet written to it
	gone    bool
	dropped int // datagrams dropped for want of window or buffer, for the log

	active atomic.Int64 // when a datagram last went either way (Unix ns)
}

func newUDPStream(s *session, id uint32, c wisp.Connect) *udpStream {
	u := &udpStream{s: s, id: id, dest: c, window: noWindow}
	if s.ext.window {
		u.window = int(s.ext.clientWin)
	}
	u.active.Store(time.Now().UnixNano())
	return u
}

func (u *udpStream) run() {
	ctx, cancel := u.s.dialContext()
	conn, err := u.s.dialUDP(ctx, u.id, u.dest)
	cancel()
	if err != nil {
		u.s.dialFailed(u.id, u.dest, err)
		u.end(connectReason(err), false)
		return
	}
	u.mu.Lock()
	if u.gone {
		u.mu.Unlock()
		conn.Close()
		return
	}
	u.conn = conn
	pending := u.pending
	u.pending = nil
	u.mu.Unlock()
	if u.s.ext.opened {
		u.s.control(openedPacket(u.id, conn))
	}
	for _, msg := range pending {
		u.write(msg)
	}
	u.readLoop()
}

func (u *udpStream) readLoop() {
	for {
		if err := waitReadable(u.conn); err != nil && !refused(err) {
			u.readFailed(err)
			return
		}
		buf := buffer.Get(buffer.MaxMessage)
		n, err := u.conn.Read(buf[wisp.HeaderLen:])
		if err != nil {
			buffer.Put(buf)
			if refused(err) {
				continue // an ICMP error from a datagram sent earlier
			}
			u.readFailed(err)
			return
		}
		// A datagram that finds no room is dropped rather than queued,
		// as UDP may.
		session, bridge := u.s.outRoom()
		limit := u.s.h.cfg.StreamBuffer
		u.mu.Lock()
		gone := u.gone
		fits := n <= u.window && (limit == 0 || u.unsent+n <= limit) && session && bridge
		if fits {
			u.window -= n
			u.unsent += n
		} else {
			u.dropped++
		}
		u.mu.Unlock()
		if gone || !fits {
			buffer.Put(buf)
			if gone {
				return
			}
			continue
		}
		if !u.s.throttle(u.s.down, n) {
			buffer.Put(buf)
			return
		}
		wisp.PutHeader(buf, wisp.TypeData, u.id)
		u.active.Store(time.Now().UnixNano())
		u.s.outBytes.Add(int64(n))
		u.s.h.stats.bufferedOut.Add(int64(n))
		u.s.h.stats.bytesDown.Add(uint64(n))
		u.s.send(outMsg{buf: buf[:wisp.HeaderLen+n], st: u})
	}
}

// refused reports the error a connected UDP socket gets after an ICMP port
// unreachable. A native UDP socket stays usable after it, and so does the
// stream.
func refused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

func (u *udpStream) readFailed(err error) {
	if !errors.Is(err, net.ErrClosed) {
		u.end(wisp.ReasonNetworkError, false)
	}
}

// clientData sends one datagram.
func (u *udpStream) clientData(msg []byte, _ int) {
	u.mu.Lock()
	if u.conn == nil && !u.gone {
		if len(u.pending) < maxPending {
			u.pending = append(u.pending, msg)
			msg = nil
		}
		u.mu.Unlock()
		if msg != nil {
			buffer.Put(msg)
		}
		return
	}
	u.mu.Unlock()
	u.write(msg)
}

func (u *udpStream) write(msg []byte) {
	// Errors are the datagram's alone (too large, no buffer space), as with
	// a native socket; an ICMP error from an earlier one is ignored.
	n := len(msg) - wisp.HeaderLen
	if u.s.throttle(u.s.up, n) {
		u.conn.Write(msg[wisp.HeaderLen:])
		u.s.h.stats.bytesUp.Add(uint64(n))
		u.active.Store(time.Now().UnixNano())
	}
	buffer.Put(msg)
}

func (u *udpStream) clientClose(wisp.Reason) { u.end(0, false) }

func (u *udpStream) grant(n int) {
	u.mu.Lock()
	u.window = min(u.window+n, 1<<30)
	u.mu.Unlock()
}

func (u *udpStream) sent(n int) {
	u.mu.Lock()
	u.unsent -= n
	if !u.s.ext.window {
		u.window = min(u.window+n, 1<<30)
	}
	u.mu.Unlock()
}

func (u *udpStream) idleSince() int64 { return u.active.Load() }

func (u *udpStream) end(r wisp.Reason, _ bool) {
	u.mu.Lock()
	if u.gone {
		u.mu.Unlock()
		return
	}
	u.gone = true
	conn, pending, dropped := u.conn, u.pending, u.dropped
	u.pending = nil
	u.mu.Unlock()
	u.s.remove(u.id, r)
	for _, msg := range pending {
		buffer.Put(msg)
	}
	if conn != nil {
		conn.Close()
	}
	if dropped > 0 {
		u.s.log.Info("UDP stream dropped datagrams the client had no window for", "stream", u.id, "dropped", dropped)
	}
}
