//go:build js

package wasmnet

import (
	"context"
	"strings"

	"github.com/hack-pad/safejs"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/wasm/internal/webapi"
)

// maxMessage is the largest DATA packet the session sends, header
// included: 64 KiB, rather than buffer.MaxMessage, as Chromium sends a
// message of up to 64 KiB as one WebSocket frame and cuts a larger one
// wherever its buffer to the network process ends (js/wasmnet.js frames
// the page's writes to the same size).
const maxMessage = 64 << 10

// jsTransport is the JavaScript WebSocket of a browser, a Worker or
// Node.js.
type jsTransport struct {
	ws *webapi.WebSocket
}

func dialTransport(ctx context.Context, url string, protocols []string) (transport, error) {
	ws, err := webapi.DialWebSocket(ctx, url, protocols, buffer.Get, buffer.MaxMessage)
	if err != nil {
		return nil, err
	}
	return &jsTransport{ws}, nil
}

func (t *jsTransport) ReadMessage() ([]byte, error) { return t.ws.Read() }

func (t *jsTransport) WriteMessages(msgs [][]byte) error {
	for _, m := range msgs {
		if err := t.ws.Write(m); err != nil {
			return err
		}
	}
	return nil
}

func (t *jsTransport) Subprotocol() string { return t.ws.Protocol() }

// Close starts the closing handshake: a browser's WebSocket cannot be
// dropped without one, and it sends what it has buffered first.
func (t *jsTransport) Close() error { return t.ws.Close("") }

func (t *jsTransport) Shutdown() error { return t.ws.Close("") }

// locationBridge is "/wisp/" on the origin of the page or Worker.
func locationBridge() string {
	loc, err := safejs.Global().Get("location")
	if err != nil || loc.IsUndefined() {
		return ""
	}
	origin, err := loc.Get("origin")
	if err != nil {
		return ""
	}
	s, err := origin.String()
	if err != nil || !strings.HasPrefix(s, "http") {
		return ""
	}
	return "ws" + strings.TrimPrefix(s, "http") + "/wisp/"
}
