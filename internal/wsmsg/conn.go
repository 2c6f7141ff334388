//go:build !js && !wasip1

package wsmsg

import (
	"net"
	"sync"
)

// bufSize is the size of the buffers between coder/websocket and the
// socket: large enough that one system call carries a whole message.
const bufSize = 128 << 10

// Conn wraps the socket under a WebSocket so that a batch of messages
// costs one system call each way.
//
// coder/websocket flushes after every message, and a client masks each
// frame through a 4 KiB buffer that it flushes whenever it fills, so
// without help a 32 KiB message costs eight writes. Between Hold and
// Release, Conn gathers writes and sends them in one. Its reads fill a
// large buffer, so that several queued messages come in with one read.
type Conn struct {
	net.Conn

	mu   sync.Mutex
	held bool
	wbuf []byte

	rbuf []byte // unread data read ahead; only the reader touches it
	roff int
}

// NewConn wraps c.
func NewConn(c net.Conn) *Conn { return &Conn{Conn: c} }

func (c *Conn) Read(p []byte) (int, error) {
	if c.roff == len(c.rbuf) {
		if len(p) >= bufSize {
			return c.Conn.Read(p)
		}
		if c.rbuf == nil {
			c.rbuf = make([]byte, bufSize)
		}
		n, err := c.Conn.Read(c.rbuf[:cap(c.rbuf)])
		c.rbuf, c.roff = c.rbuf[:n], 0
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, c.rbuf[c.roff:])
	c.roff += n
	return n, nil
}

func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held {
		c.wbuf = append(c.wbuf, p...)
		return len(p), nil
	}
	// Frames the WebSocket writes on its own, such as pongs and close
	// frames, go straight out.
	return c.Conn.Write(p)
}

// Hold gathers writes until Release.
func (c *Conn) Hold() {
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
}

// Release writes what was gathered since Hold, in one write.
func (c *Conn) Release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = false
	if len(c.wbuf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.wbuf)
	if cap(c.wbuf) > 4<<20 {
		c.wbuf = nil // do not pin a rare huge batch
	} else {
		c.wbuf = c.wbuf[:0]
	}
	return err
}
