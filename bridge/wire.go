//go:build !js && !wasip1

package bridge

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"sync"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/internal/wsmsg"
)

// wire carries the messages of one session: a WebSocket (wsWire). Each
// message is one Wisp packet.
type wire interface {
	// read returns the next message, in a buffer from buffer.Get that the
	// caller owns. A text message fails with wsmsg.ErrText, one longer
	// than buffer.MaxMessage with an error wrapping
	// websocket.ErrMessageTooBig.
	read(ctx context.Context) ([]byte, error)
	// write sends one message. Between hold and flush, writes may be
	// gathered into fewer system calls, and msg may be sent from where it
	// is, so it must stay unchanged until the flush.
	write(ctx context.Context, msg []byte) error
	hold()
	flush() error
	// ping asks the client for a sign of life.
	ping(ctx context.Context) error
	// close ends the session with a status and a reason, through the
	// closing handshake, which is bounded in time.
	close(code websocket.StatusCode, reason string)
	// closeNow drops the connection without a handshake.
	closeNow()
}

// wsWire is a session's WebSocket.
type wsWire struct {
	ws   *websocket.Conn
	conn *batchConn
}

func (w *wsWire) read(ctx context.Context) ([]byte, error) {
	return wsmsg.Read(ctx, w.ws, buffer.MaxMessage)
}

func (w *wsWire) write(ctx context.Context, msg []byte) error {
	return w.ws.Write(ctx, websocket.MessageBinary, msg)
}

func (w *wsWire) hold()                          { w.conn.hold() }
func (w *wsWire) flush() error                   { return w.conn.release() }
func (w *wsWire) ping(ctx context.Context) error { return w.ws.Ping(ctx) }
func (w *wsWire) closeNow()                      { w.ws.CloseNow() }

func (w *wsWire) close(code websocket.StatusCode, reason string) {
	w.ws.Close(code, truncate(reason, 120))
}

// batchConn is the socket under a session's WebSocket. Between hold and
// release it gathers the frames coder/websocket writes, which flushes
// after every message, so that a batch of small packets costs one system
// call. Unlike wsmsg.Conn it holds no buffer while idle and gathers at
// most one pooled message buffer at a time: a bridge serves thousands of
// sessions, and what each one keeps adds up.
type batchConn struct {
	net.Conn
	pending []byte // read ahead by net/http before the upgrade

	// ahead is what one read took from the socket beyond what was asked:
	// a pooled buffer, taken once data is there and returned when
	// drained, so that a burst of messages costs a read per 64 KiB, not
	// two per message, while an idle session holds none. Only the
	// reader touches it.
	ahead []byte
	aoff  int

	mu     sync.Mutex
	held   bool
	wbuf   []byte      // small writes, copied
	listed int         // how much of wbuf is in bufs
	bufs   net.Buffers // what the next writev sends: parts of wbuf and large writes in place
	nbufs  int         // bytes in bufs
}

func (c *batchConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		if c.pending = c.pending[n:]; len(c.pending) == 0 {
			c.pending = nil
		}
		return n, nil
	}
	if c.ahead == nil && len(p) < readAhead {
		buf, ok, err := readPooled(c.Conn, readAhead)
		if !ok {
			return c.Conn.Read(p)
		}
		if err != nil {
			return 0, err
		}
		c.ahead, c.aoff = buf, 0
	}
	if c.ahead == nil {
		return c.Conn.Read(p) // large enough to go without a copy
	}
	n := copy(p, c.ahead[c.aoff:])
	if c.aoff += n; c.aoff == len(c.ahead) {
		buffer.Put(c.ahead)
		c.ahead, c.aoff = nil, 0
	}
	return n, nil
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.held {
		return c.Conn.Write(p)
	}
	if len(p) > writeBufSize {
		// Larger than coder/websocket's buffer, so a slice of the
		// message itself, which the session keeps until the flush: it
		// goes in place, with what was gathered around it, in one writev.
		c.list()
		c.bufs = append(c.bufs, p)
		c.nbufs += len(p)
		if c.nbufs >= maxGather || len(c.bufs) >= maxGatherParts {
			if err := c.flushLocked(); err != nil {
				return 0, err
			}
		}
		return len(p), nil
	}
	if len(c.wbuf)+len(p) > buffer.MaxMessage {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	if c.wbuf == nil {
		c.wbuf = buffer.Get(buffer.MaxMessage)[:0]
	}
	c.wbuf = append(c.wbuf, p...)
	return len(p), nil
}

// list moves what wbuf gathered since the last large write into bufs.
func (c *batchConn) list() {
	if len(c.wbuf) > c.listed {
		c.bufs = append(c.bufs, c.wbuf[c.listed:])
		c.nbufs += len(c.wbuf) - c.listed
		c.listed = len(c.wbuf)
	}
}

func (c *batchConn) hold() {
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
}

// release writes what was gathered and returns the buffer to its pool.
func (c *batchConn) release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = false
	err := c.flushLocked()
	if c.wbuf != nil {
		buffer.Put(c.wbuf)
		c.wbuf = nil
	}
	return err
}

func (c *batchConn) flushLocked() error {
	var err error
	if len(c.bufs) == 0 {
		if len(c.wbuf) > 0 {
			_, err = c.Conn.Write(c.wbuf)
		}
	} else {
		c.list()
		parts := c.bufs // WriteTo consumes its slice
		_, err = parts.WriteTo(c.Conn)
		clear(c.bufs)
		c.bufs, c.nbufs = c.bufs[:0], 0
	}
	c.wbuf, c.listed = c.wbuf[:0], 0
	return err
}

// Read and write buffers of coder/websocket for one session. Messages
// larger than these bypass them, so they only need to fit frame headers
// and small packets.
const (
	readBufSize  = 16 << 10
	writeBufSize = 4 << 10
)

// A batch of large messages goes out in one writev of at most about
// maxGather bytes and maxGatherParts pieces.
const (
	maxGather      = 1 << 20
	maxGatherParts = 64
)

// readAhead is how much batchConn reads from the socket at a time.
const readAhead = buffer.MaxMessage

// hijackWriter hands coder/websocket a batchConn with small buffers when
// it hijacks the connection.
type hijackWriter struct {
	http.ResponseWriter
	conn *batchConn
}

func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("http.ResponseWriter does not implement http.Hijacker")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	c := &batchConn{Conn: nc}
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		c.pending = append([]byte(nil), b...)
	}
	w.conn = c
	return c, bufio.NewReadWriter(bufio.NewReaderSize(c, readBufSize), bufio.NewWriterSize(c, writeBufSize)), nil
}
