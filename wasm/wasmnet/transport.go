package wasmnet

import "github.com/wasmnet/wasmnet/wisp"

// transport carries whole Wisp packets between a session and the bridge:
// one binary WebSocket message per packet. There are three: the browser's
// WebSocket (GOOS=js), a framed stdio pipe to the wazero host
// (GOOS=wasip1), and a native WebSocket (any other GOOS).
type transport interface {
	// ReadMessage returns the next message, in a buffer from getBuf that
	// now belongs to the caller.
	ReadMessage() ([]byte, error)

	// WriteMessages writes msgs in order, one message each. The caller
	// keeps the buffers.
	WriteMessages(msgs [][]byte) error

	// Subprotocol is the WebSocket subprotocol the bridge selected. A
	// bridge that selects none speaks Wisp v1.
	Subprotocol() string

	// Close tears the connection down. Pending calls return errors.
	Close() error

	// Shutdown closes politely: the bridge reads everything written
	// before it, then the closing handshake ends the connection.
	Shutdown() error
}

// maxData is the most a DATA packet of the session carries: maxMessage,
// which each transport sets, less the header.
const maxData = maxMessage - wisp.HeaderLen

// subprotocol is offered to the bridge. wisp-js, like the wasmnet bridge,
// speaks Wisp v2 only to a client that offers a subprotocol.
const subprotocol = "wisp-v2"

// tokenProtocolPrefix marks the subprotocol that carries a capability
// token: "wasmnet.token." and the token, which is made of characters a
// subprotocol may hold (base64url and dots).
const tokenProtocolPrefix = "wasmnet.token."
