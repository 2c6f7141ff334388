//go:build !js && !wasip1

package wasmnet

import (
	"context"
	"net"
	"net/http"
	"sync"

	"github.com/coder/websocket"
	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/internal/wsmsg"
)

// wsTransport is a native WebSocket, for tests and for native programs.
type wsTransport struct {
	c    *websocket.Conn
	cork *corkConn
}

func dialTransport(ctx context.Context, url string, protocols []string) (transport, error) {
	var cork *corkConn
	hc := &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			cork = &corkConn{Conn: c}
			return cork, nil
		},
	}}
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPClient:   hc,
		Subprotocols: protocols,
	})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(buffer.MaxMessage)
	return &wsTransport{c: c, cork: cork}, nil
}

func (t *wsTransport) ReadMessage() ([]byte, error) {
	return wsmsg.Read(context.Background(), t.c, buffer.MaxMessage)
}

func (t *wsTransport) WriteMessages(msgs [][]byte) error {
	t.cork.hold()
	for _, m := range msgs {
		if err := t.c.Write(context.Background(), websocket.MessageBinary, m); err != nil {
			t.cork.release()
			return err
		}
	}
	return t.cork.release()
}

func (t *wsTransport) Subprotocol() string { return t.c.Subprotocol() }

func (t *wsTransport) Close() error { return t.c.CloseNow() }

// corkConn gathers the writes of a batch of messages into one write to the
// socket. The native WebSocket client masks each frame through a 4 KiB
// buffer and flushes it every time it fills; without the cork a 32 KiB
// message costs eight system calls, which halved throughput.
type corkConn struct {
	net.Conn
	mu   sync.Mutex
	held bool
	buf  []byte
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	// Control frames the WebSocket writes on its own, such as pongs, go
	// straight out.
	return c.Conn.Write(p)
}

func (c *corkConn) hold() {
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
}

func (c *corkConn) release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = false
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > 4<<20 {
		c.buf = nil // do not pin a rare huge batch
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

func locationBridge() string { return "" }
