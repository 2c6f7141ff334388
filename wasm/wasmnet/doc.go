// Package wasmnet gives a Go program compiled to WebAssembly real TCP
// sockets, through a bridge that speaks Wisp over one WebSocket.
//
// Dial and DialContext return a net.Conn, so protocol code written for
// package net runs unchanged:
//
//	conn, err := wasmnet.Dial("tcp", "mail.example.com:25")
//	if err != nil {
//		return err
//	}
//	c, err := smtp.NewClient(conn, "mail.example.com")
//
// A Dialer holds the bridge's URL; all its dials share one session, a
// single WebSocket, opened on first use and opened again after it is lost.
// The package-level functions use DefaultDialer, whose bridge is
// DefaultBridge(): $WASMNET_BRIDGE, or "/wisp/" on the page's origin.
//
// The same code runs over three transports, chosen by GOOS:
//
//   - js: the JavaScript WebSocket of a page, a Worker or Node.js;
//   - wasip1: a framed pipe on stdio to the wazero host in package
//     github.com/wasmnet/wasmnet/wasm/host, which runs programs headless;
//   - any other GOOS: a native WebSocket, for tests and native programs.
//
// # The net contracts
//
// A Conn honours net.Conn: deadlines per direction that can be moved or
// cleared, where a timeout is a *net.OpError wrapping
// os.ErrDeadlineExceeded and leaves the stream usable; io.EOF when the
// remote end has finished; errors wrapping net.ErrClosed after Close;
// Close unblocks pending Reads and Writes. A refused, unreachable or
// forbidden destination is a *net.OpError whose cause is a *CloseError
// that matches syscall.ECONNREFUSED, syscall.EHOSTUNREACH or ErrBlocked
// with errors.Is. A connection the remote end resets fails Read (once the
// data before the reset is read) and Write with a *net.OpError whose cause
// is a *CloseError matching syscall.ECONNRESET. When the session with the
// bridge is lost, every stream fails with a *net.OpError carrying a
// *BridgeError, and the next dial opens a new session. Conformance is
// tested with golang.org/x/net/nettest.
//
// # What depends on the bridge
//
// The wasmnet bridge supports three extensions to Wisp, negotiated at the
// start of a session; a plain Wisp server, such as wisp-js, supports none:
//
//   - Open confirmation: Dial returns once the destination has accepted,
//     with its real address in RemoteAddr and the bridge's socket address
//     in LocalAddr. Without it, Dial returns at once, RemoteAddr is the
//     address dialed, and a refused destination shows up as the error of
//     the first Read or Write.
//   - Receive window: the bridge sends at most Dialer.Window bytes per
//     stream ahead of the program's reads, so a fast server cannot fill
//     the tab's memory. Without it, a stream that holds 256 KiB stops the
//     whole session's reading until the program catches up.
//   - Half-close: CloseWrite. Without it, CloseWrite returns an error.
//
// # Caveats
//
//   - Write returns once its data is queued for the bridge, as a write to
//     a kernel socket returns once the data is in the send buffer. The
//     queue is bounded, and Wisp's credit bounds each stream.
//   - The bridge resolves host names, and chooses the address family:
//     "tcp4" and "tcp6" are taken as "tcp".
//   - In a browser, everything runs on the page's event loop. A Go program
//     that blocks the loop (a long computation without yielding) stalls
//     its sockets too.
//   - Under wasip1 with the wazero host, fd 1 carries the pipe and
//     os.Stdout is pointed at stderr.
package wasmnet
