//go:build !js && !wasip1

// Package bridge is the wasmnet bridge as a library: an http.Handler that
// speaks Wisp v2 over a WebSocket and opens the real TCP and UDP sockets
// that web pages ask for, one WebSocket per page.
//
// NewHandler builds one from a Config. Its defaults are safe for a public
// host: the destination Policy refuses every special-purpose address
// (loopback, private, link-local, metadata and the rest) on the address
// actually dialed, and opens only what its allow rules name; the
// WebSocket handshake must come from the same origin or an allowed one;
// sessions, streams and buffered bytes are limited, and bandwidth per
// session can be (command bridge limits it by default). Signed
// capability tokens (TokenConfig, MintToken) can narrow all of it per
// client, and ListenConfig lets pages listen on a range of public ports
// or on named endpoints.
//
// The wire format, with our extensions for flow control, half-close,
// listening and name resolution, is in docs/PROTOCOL.md; command
// bridge/cmd/bridge wraps this package, and docs/OPERATING.md says how to
// run it in public. The package is native only: a bridge needs real
// sockets.
package bridge
