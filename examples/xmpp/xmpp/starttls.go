package xmpp

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
)

const nsTLS = "urn:ietf:params:xml:ns:xmpp-tls"

// startTLS asks the server to upgrade the stream (RFC 6120, section 5)
// and runs the TLS handshake here, in the client, so that whatever
// carries the connection sees only ciphertext.
func (c *Client) startTLS(ctx context.Context, config *tls.Config) error {
	if err := c.s.write(ctx, "<starttls xmlns='"+nsTLS+"'/>"); err != nil {
		return err
	}
	var answer struct{ XMLName xml.Name }
	if err := c.s.readInto(ctx, nsTLS, "", &answer); err != nil {
		return err
	}
	switch answer.XMLName.Local {
	case "proceed":
	case "failure":
		return errors.New("xmpp: the server refused STARTTLS")
	default:
		return fmt.Errorf("xmpp: unexpected answer to STARTTLS: <%s>", answer.XMLName.Local)
	}
	tc := tls.Client(c.s.conn, config)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("xmpp: STARTTLS: %w", err)
	}
	c.tls = tc
	c.s = newStream(tc, &c.wmu)
	return nil
}
