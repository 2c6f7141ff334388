// Package jsapi is what main.wasm shows to JavaScript: a few primitives on
// globalThis.wasmnet that js/wasmnet.js wraps into socket objects and
// js/sockets.js builds the Direct-Sockets-shaped TCPSocket, UDPSocket and
// TCPServerSocket on.
//
// globalThis.wasmnet holds:
//
//	version                      the runtime's version
//	dial(host, port, options?)   → Promise<info>: a TCP stream, with TLS if options.tls
//	read(id, max?)               → Promise<Uint8Array | null>: null at the end of the stream;
//	                               on a UDP socket, one datagram
//	write(id, bufferSource)      → Promise<void>: settled once Go has taken the bytes;
//	                               on a UDP socket, one datagram
//	closeWrite(id)               → Promise<void>: half-close (TLS close_notify, then FIN)
//	close(id)                    → Promise<void>: closes whatever id names
//	startTls(id, tls?)           → Promise<info>: a new socket, TLS over the stream of id
//	dialUdp(host, port, options?) → Promise<info>: a connected UDP socket (read, write, close)
//	listenPacket(options?)       → Promise<{id, localAddress, localPort}>: a bound UDP socket
//	readFrom(id)                 → Promise<{data, remoteAddress, remotePort}>: its next datagram
//	writeTo(id, bufferSource, host, port, options?) → Promise<void>: one datagram to host:port
//	listen(host, port?)          → Promise<{id, localAddress, localPort}>: a listener on the bridge
//	accept(id)                   → Promise<info | null>: the next connection; null once closed
//	stats()                      → Promise<{streams, recvBuffered, sendQueued}>
//
// Sockets, bound UDP sockets and listeners are named by numeric ids, from
// one table (handles.go), rather than objects of functions, so that they
// cost no js.Func: a released Func that JavaScript still calls crashes the
// program, and one never released leaks.
//
// A bound UDP socket is a wasmnet.PacketConn: Wisp's UDP streams are
// connected, so it opens one stream, and the bridge one socket, per
// address it sends to, and hears only from those. It has no local address
// of its own to report: listenPacket reports the unspecified address and
// port 0.
//
// Every function returns a Promise settled from a goroutine: nothing
// blocks the JavaScript event loop. A rejection is a DOMException whose
// name says what failed (see errors.go), or a TypeError for bad arguments.
//
// The shape is documented, for JavaScript, in js/wasmnet.d.ts (the
// GoRuntime interface); a browser test checks that the two agree.
package jsapi
