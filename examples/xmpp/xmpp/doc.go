// Package xmpp is a small XMPP client (RFC 6120, RFC 6121) over any
// net.Conn: stream negotiation with STARTTLS, SASL (SCRAM-SHA-256,
// SCRAM-SHA-1 or PLAIN), resource binding, then messages and presence.
//
// It exists because no XMPP module could be fetched for the wasmnet
// examples; it is written to be read, not to be complete. NewClient does
// the whole negotiation on a connection the caller opened, the way
// net/smtp.NewClient takes one:
//
//	conn, _ := wasmnet.DialContext(ctx, "tcp", "xmpp.example:5222")
//	c, err := xmpp.NewClient(ctx, conn, xmpp.Config{JID: "me@xmpp.example", Password: pw})
//	c.SendPresence(ctx)
//	c.Send(ctx, &xmpp.Message{To: "you@xmpp.example", Type: "chat", Body: "hi"})
//	m, err := c.NextMessage(ctx)
//
// The package knows nothing about wasmnet: its tests run it over plain
// TCP, against canned server transcripts.
//
// Caveats:
//   - TLS is required: NewClient refuses to authenticate unless the
//     server offers STARTTLS or the connection is already a *tls.Conn.
//   - No channel binding (the -PLUS mechanisms), no SASLprep: a password
//     with non-ASCII characters must already be in its normalized form.
//   - No SRV lookup (the caller dials), no stream management, no
//     compression, no roster. Stanzas other than messages, presence and
//     IQs are skipped; IQ requests are answered with
//     service-unavailable, as RFC 6120 requires of a client that does
//     not understand them.
//   - Stanza size is not bounded: a hostile server can make the client
//     buffer a large element.
//   - A Client is for one goroutine at a time, except that Send may be
//     called while another goroutine waits in Next.
package xmpp
