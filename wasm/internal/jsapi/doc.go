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
//	pipe(id, deliver, writes?)   → undefined | Error | HandOff: push the stream's data to deliver(id, chunk)
//	resume(id)                   → undefined | Error: ask a pipe for more
//	takeBack(id, credit)         → undefined | Error: Go writes the stream again, with the page's credit
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
// Every function but pipe, resume and takeBack returns a Promise settled from a
// goroutine: nothing blocks the JavaScript event loop. A rejection is a
// DOMException whose name says what failed (see errors.go), or a TypeError
// for bad arguments. pipe, resume and takeBack return at once, with the exception
// to throw if they fail (a Go function cannot throw).
//
// pipe is the fast way to read, which TCPSocket uses: a call from
// JavaScript into Go costs a Promise, a js.Func for its executor, a
// goroutine and a dozen JavaScript objects that Go must track (each with
// a finalizer), so a read() per chunk made TCPSocket a quarter as fast as
// a plain WebSocket. A pipe makes no call per chunk: a goroutine reads
// and calls deliver(id, chunk) with a Uint8Array, and reads on while
// deliver returns true; after false it waits for resume(id). deliver gets
// null at the end of the stream, or the exception that ended it. Go still
// reads only when JavaScript wants data, so flow control is as with
// read(): TCPSocket's readable has a high-water mark of one byte, so Go
// reads at most one chunk ahead of the page.
//
// Even so, every chunk crossed into Go (onmessage, a copy) and out again
// (a new Uint8Array, a copy): a download ran at half a plain WebSocket's
// speed. So a plain TCP stream is handed to JavaScript when js/wasmnet.js
// loaded main.wasm: it installs globalThis.__wasmnetTap, through which
// package webapi lets it set each bridge WebSocket's onmessage. pipe
// then returns a HandOff (wasmnet.Conn.HandOff): the tap takes the
// stream's DATA off the WebSocket and gives the payload, a view of the
// message's own ArrayBuffer, to the socket; the page grants the window
// back itself with WINDOW packets as it reads; with writes, it sends the
// stream's DATA itself, within the credit, which it learns by seeing the
// stream's CONTINUEs before Go does. Go keeps the rest of the stream:
// connecting, FIN, CLOSE, errors and their messages (the pipe delivers the
// end), and TLS, which never is handed over. TCPSocket hands the writes
// over only when secureTransport is "off": startTls needs Go's credit.
//
// The shape is documented, for JavaScript, in js/wasmnet.d.ts (the
// GoRuntime interface); a browser test checks that the two agree.
package jsapi
