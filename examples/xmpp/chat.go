package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"github.com/wasmnet/wasmnet/examples/xmpp/xmpp"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// run is the whole session, reported line by line on out.
func run(ctx context.Context, cfg config, out io.Writer) error {
	tlsConfig := &tls.Config{ServerName: cfg.serverName}
	if cfg.caPEM != "" {
		tlsConfig.RootCAs = x509.NewCertPool()
		if !tlsConfig.RootCAs.AppendCertsFromPEM([]byte(cfg.caPEM)) {
			return errors.New("-ca holds no PEM certificate")
		}
	}

	// The one wasmnet call: $WASMNET_BRIDGE, or /wisp/ on the page's origin.
	conn, err := wasmnet.DialContext(ctx, "tcp", cfg.server)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintf(out, "connected to %s through the bridge\n", conn.RemoteAddr())

	// From here on it is XMPP over a net.Conn, as over a kernel socket.
	c, err := xmpp.NewClient(ctx, conn, xmpp.Config{JID: cfg.jid, Password: cfg.password, TLS: tlsConfig})
	if err != nil {
		return err
	}
	state := c.TLSConnectionState()
	fmt.Fprintf(out, "STARTTLS: %s, certificate of %s verified in this program\n",
		tls.VersionName(state.Version), state.ServerName)
	fmt.Fprintf(out, "authenticated with %s, bound as %s\n", c.Mechanism(), c.JID())
	if err := c.SendPresence(ctx); err != nil {
		return err
	}

	if cfg.to != "" {
		if err := c.Send(ctx, &xmpp.Message{To: cfg.to, Type: "chat", Body: cfg.message}); err != nil {
			return err
		}
		fmt.Fprintf(out, "sent to %s: %s\n", cfg.to, cfg.message)
	}
	for heard := 0; heard < cfg.replies; {
		m, err := c.NextMessage(ctx)
		if err != nil {
			return err
		}
		switch {
		case m.Type == "error" && m.Error != nil:
			return fmt.Errorf("message to %s bounced: %w", m.From, m.Error)
		case m.Body != "":
			fmt.Fprintf(out, "message from %s: %s\n", m.From, m.Body)
			heard++
		}
	}
	if err := c.Close(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "stream closed; done")
	return nil
}
