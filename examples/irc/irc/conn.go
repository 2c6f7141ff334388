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
// both sides of a session: the Client, and each connection the Server
// accepts. Reads and writes may run in two goroutines at once; writes are
// serialized.
type Conn struct {
	conn net.Conn
	r    *bufio.Reader
	wmu  sync.Mutex

	// The line being read, kept across a read that a deadline cut short.
	line []byte
	skip bool // the line is too long: drop the rest of it
}

// NewConn returns a Conn on c.
func NewConn(c net.Conn) *Conn {
	return &Conn{conn: c, r: bufio.NewReaderSize(c, 4096)}
}

// NetConn is the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.conn }

// ReadMessage reads the next message. Blank lines are skipped. A line end
// may be CR LF or a bare LF, as servers and clients are lenient in both.
//
// A line over MaxLine bytes (tags aside) is an error wrapping
// ErrLineTooLong, and a line that does not parse one wrapping
// ErrMalformed; either way the line has been read whole, and the next
// call reads the next line. A read that ends by a deadline or ctx keeps
// what it had of the line for the next call.
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
		if n := len(untagged(line)) + 2; n > MaxLine {
			return Message{}, fmt.Errorf("%w: %d bytes, over the %d IRC allows", ErrLineTooLong, n, MaxLine)
		}
		m, err := Parse(line)
		if err != nil {
			return Message{}, fmt.Errorf("%w: %q", err, line)
		}
		return m, nil
	}
}

// readLine reads up to the next LF. Past maxRead bytes it drops the rest
// of the line and reports ErrLineTooLong once the line has ended, so that
// the connection stays in step.
func (c *Conn) readLine() (string, error) {
	for {
		chunk, err := c.r.ReadSlice('\n')
		if !c.skip {
			c.line = append(c.line, chunk...)
			if len(c.line) > maxRead {
				c.skip, c.line = true, c.line[:0]
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && (len(c.line) > 0 || c.skip) {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		line := strings.TrimRight(string(c.line), "\r\n")
		c.line = c.line[:0]
		if c.skip {
			c.skip = false
			return "", fmt.Errorf("%w: over %d bytes", ErrLineTooLong, maxRead)
		}
		return line, nil
	}
}

// untagged is line without its IRCv3 tags.
func untagged(line string) string {
	if !strings.HasPrefix(line, "@") {
		return line
	}
	_, rest, _ := strings.Cut(line, " ")
	return strings.TrimLeft(rest, " ")
}

// WriteMessage writes m as one line. A message that cannot be one line
// (see Message.Check) is not sent.
func (c *Conn) WriteMessage(ctx context.Context, m Message) error {
	if err := m.Check(); err != nil {
		return err
	}
	line := m.String()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	defer watch(ctx, c.conn.SetWriteDeadline)()
	_, err := io.WriteString(c.conn, line+"\r\n")
	return ctxErr(ctx, err)
}

// Close closes the connection.
func (c *Conn) Close() error { return c.conn.Close() }

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
