//go:build !js && !wasip1

// Package wsmsg reads and writes whole binary WebSocket messages with
// github.com/coder/websocket, using the pooled buffers of package buffer.
// The bridge, the native client and the wazero host share it.
package wsmsg

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/buffer"
)

// ErrText is returned for a text message, which Wisp does not use.
var ErrText = errors.New("text message where Wisp packets are binary")

// Read returns the next binary message in a buffer from buffer.Get, which
// the caller owns. Messages longer than limit fail; limit must not exceed
// buffer.MaxMessage, and the connection's read limit should match it.
// A message that is too long fails with an error wrapping
// websocket.ErrMessageTooBig.
func Read(ctx context.Context, c *websocket.Conn, limit int) ([]byte, error) {
	typ, r, err := c.Reader(ctx)
	if err != nil {
		return nil, err
	}
	if typ != websocket.MessageBinary {
		return nil, ErrText
	}
	buf := buffer.Get(limit)
	n := 0
	for {
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			return buf[:n], nil
		}
		if err != nil {
			buffer.Put(buf)
			return nil, err
		}
		if n == len(buf) {
			var one [1]byte
			m, err := r.Read(one[:])
			switch {
			case m == 0 && err == io.EOF:
				return buf, nil
			case m == 0 && err != nil:
				buffer.Put(buf)
				return nil, err
			case m == 0:
				continue
			}
			buffer.Put(buf)
			return nil, fmt.Errorf("%w: message longer than %d bytes", websocket.ErrMessageTooBig, limit)
		}
	}
}
