// Package irc speaks IRC (RFC 1459 and RFC 2812, as servers speak them
// today) over any net.Conn: a small client that registers, joins, talks
// and answers PINGs, and a small server for it and for any IRC client.
//
// It is in layers, the lowest shared by both sides:
//
//   - Message and Conn are the wire: one line, parsed and formatted, and a
//     connection that reads and writes lines.
//   - Client is the client side of a session: Register, Join, Privmsg,
//     Next and Quit.
//   - Server is the server side, in the shape of net/http's: Serve on a
//     net.Listener, Shutdown and Close. It registers users (PASS, NICK,
//     USER), keeps channels (JOIN, PART, TOPIC, NAMES, LIST), relays
//     PRIVMSG and NOTICE to channels and users, pings the silent and drops
//     the dead, and answers WHO, WHOIS, MODE and MOTD minimally and
//     anything else with 421.
//
// The example program in the parent directory runs either side over
// wasmnet: the client on a connection through the bridge, the server on
// a listener of the bridge. The tests run both over real TCP. The package
// itself knows nothing about wasmnet.
//
// Caveats:
//   - No IRCv3 capability negotiation (CAP), no SASL and no CTCP. Message
//     tags are parsed when a server sends them, which it does only after
//     CAP. The server answers CAP with 421, which IRCv3 clients take as
//     "no capabilities".
//   - Text is sent as given (UTF-8 in practice). A line longer than the
//     512 bytes RFC 1459 allows is refused, read or written, rather than
//     split; the server answers one with 417 and reads on. Reasons and
//     topics that the server relays are cut to fit.
//   - A Client is for one goroutine at a time, except that Quit and Close
//     may be called from another goroutine to end a Next.
//   - The server is a single server: no links to others, no services,
//     no channel operators, bans or keys; channels have mode +n only, and
//     any member may set the topic. Nicknames are held only while their
//     users are connected, and cases fold as RFC 1459 says.
//   - The server takes every connection its listener accepts; bound their
//     number there (a wasmnet bridge bounds the streams of a session).
package irc
