package irc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// maxRead bounds a line read, tags included: IRCv3 allows 8191 bytes of
// tags before the 512 of the message.
const maxRead = 8191 + MaxLine

// A Conn reads and writes IRC messages on a net.Conn. It is the wire for
// both sides of a session: a client and, one day, a server. Reads and
// writes may run in two goroutines at once; writes are serialized.
type Conn struct {
	conn net.Conn
	r    *bufio.Reader
	wmu  sync.Mutex
}

// NewConn returns a Conn on c.
func NewConn(c net.Conn) *Conn {
	return &Conn{conn: c, r: bufio.NewReaderSize(c, 4096)}
}

// NetConn is the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.conn }

// ReadMessage reads the next message. Blank lines are skipped. A line end
// may be CR LF or a bare LF, as servers and clients are lenient in both.
func (c *Conn) ReadMessage(ctx context.Context) (Message, error) {
	defer watch(ctx, c.conn.SetReadDeadline)()
	for {
		line, err := c.readLine()
		if err != nil {
			return Message{}, ctxErr(ctx, err)
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := Parse(line)
		if err != nil {
			return Message{}, fmt.Errorf("%w: %q", err, line)
		}
		return m, nil
	}
}

func (c *Conn) readLine() (string, error) {
	var b []byte
	for {
		chunk, err := c.r.ReadSlice('\n')
		b = append(b, chunk...)
		if len(b) > maxRead {
			return "", errors.New("irc: line too long")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(b) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
}

// WriteMessage writes m as one line.
func (c *Conn) WriteMessage(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	line := m.String()
	if n := len(line) + 2 - tagsLen(m); n > MaxLine {
		return fmt.Errorf("irc: %s line is %d bytes, over the %d IRC allows", m.Command, n, MaxLine)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	defer watch(ctx, c.conn.SetWriteDeadline)()
	_, err := io.WriteString(c.conn, line+"\r\n")
	return ctxErr(ctx, err)
}

// Close closes the connection.
func (c *Conn) Close() error { return c.conn.Close() }

func tagsLen(m Message) int {
	if len(m.Tags) == 0 {
		return 0
	}
	return len(formatTags(m.Tags)) + 2
}

// watch makes ctx bound one read or write: when ctx ends, it moves the
// connection's deadline to the past, which wakes a blocked call without
// closing anything. The returned function undoes it.
func watch(ctx context.Context, setDeadline func(time.Time) error) (done func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		setDeadline(time.Unix(1, 0))
		close(fired)
	})
	return func() {
		if !stop() {
			<-fired
		}
		setDeadline(time.Time{})
	}
}

// ctxErr reports a deadline set by watch as the context's error. watch
// sets one only once ctx has ended, so ctx.Err tells them apart from a
// deadline the caller set on the connection.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("irc: %w", context.Cause(ctx))
	}
	return err
}
