// Package jsapi is what main.wasm shows to JavaScript: a few primitives on
// globalThis.wasmnet that js/wasmnet.js wraps into socket objects and
// js/sockets.js builds the Direct-Sockets-shaped TCPSocket on.
//
// globalThis.wasmnet holds:
//
//	version                      the runtime's version
//	dial(host, port, options?)   → Promise<info>: a TCP stream, with TLS if options.tls
//	read(id, max?)               → Promise<Uint8Array | null>: null at the end of the stream
//	write(id, bufferSource)      → Promise<void>: settled once Go has taken the bytes
//	closeWrite(id)               → Promise<void>: half-close (TLS close_notify, then FIN)
//	close(id)                    → Promise<void>
//	startTls(id, tls?)           → Promise<info>: a new socket, TLS over the stream of id
//	stats()                      → Promise<{streams, recvBuffered, sendQueued}>
//
// Sockets are named by numeric ids rather than objects of functions, so
// that a socket costs no js.Func: a released Func that JavaScript still
// calls crashes the program, and one never released leaks.
//
// Every function returns a Promise settled from a goroutine: nothing
// blocks the JavaScript event loop. A rejection is a DOMException whose
// name says what failed (see errors.go), or a TypeError for bad arguments.
//
// The shape is documented, for JavaScript, in js/wasmnet.d.ts (the
// GoRuntime interface); a browser test checks that the two agree.
package jsapi
