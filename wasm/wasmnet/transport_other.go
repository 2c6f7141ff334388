//go:build !js && !wasip1

package wasmnet

import (
	"context"
	"net"
	"net/http"

	"github.com/coder/websocket"
	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/internal/wsmsg"
)

// maxMessage is the largest DATA packet the session sends, header
// included.
const maxMessage = buffer.MaxMessage

// wsTransport is a native WebSocket, for tests and for native programs.
type wsTransport struct {
	c    *websocket.Conn
	conn *wsmsg.Conn
}

func dialTransport(ctx context.Context, url string, protocols []string) (transport, error) {
	var conn *wsmsg.Conn
	hc := &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			conn = wsmsg.NewConn(c)
			return conn, nil
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
	return &wsTransport{c: c, conn: conn}, nil
}

func (t *wsTransport) ReadMessage() ([]byte, error) {
	return wsmsg.Read(context.Background(), t.c, buffer.MaxMessage)
}

func (t *wsTransport) WriteMessages(msgs [][]byte) error {
	// One system call for the whole batch; see wsmsg.Conn.
	t.conn.Hold()
	for _, m := range msgs {
		if err := t.c.Write(context.Background(), websocket.MessageBinary, m); err != nil {
			t.conn.Release()
			return err
		}
	}
	return t.conn.Release()
}

func (t *wsTransport) Subprotocol() string { return t.c.Subprotocol() }

func (t *wsTransport) Close() error { return t.c.CloseNow() }

func (t *wsTransport) Shutdown() error { return t.c.Close(websocket.StatusNormalClosure, "") }

func locationBridge() string { return "" }
