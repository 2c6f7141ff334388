// Package irc is a small IRC client (RFC 1459 and RFC 2812, as servers
// speak them today) over any net.Conn: register, join, talk, answer PINGs.
//
// It is in two layers, so that a server can be built on the lower one:
//
//   - Message and Conn are the wire: one line, parsed and formatted, and a
//     connection that reads and writes lines. Nothing in them is
//     client-specific.
//   - Client is the client side of a session: Register, Join, Privmsg,
//     Next and Quit.
//
// The example program in the parent directory runs it over a wasmnet
// connection; the tests run it over net.Pipe and real TCP. The package
// itself knows nothing about wasmnet.
//
// Caveats:
//   - No IRCv3 capability negotiation (CAP), no SASL and no CTCP. Message
//     tags are parsed when a server sends them, which it does only after
//     CAP.
//   - Text is sent as given (UTF-8 in practice); a line longer than the
//     512 bytes RFC 1459 allows is refused rather than split.
//   - A Client is for one goroutine at a time, except that Quit and Close
//     may be called from another goroutine to end a Next.
package irc
