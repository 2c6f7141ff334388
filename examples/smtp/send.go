package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"strings"
	"time"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// run sends the mail cfg describes and reports each step on out.
func run(ctx context.Context, cfg config, out io.Writer) error {
	d := wasmnet.DefaultDialer // $WASMNET_BRIDGE, or /wisp/ on the page's origin
	server := cfg.server
	if server == "" {
		domain := cfg.to[0][strings.LastIndexByte(cfg.to[0], '@')+1:]
		host, err := lookupMX(ctx, d, domain)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "MX of %s: %s\n", domain, host)
		server = net.JoinHostPort(host, cmp.Or(cfg.port, "25"))
	}
	host, _, err := net.SplitHostPort(server)
	if err != nil {
		return fmt.Errorf("-server: %w", err)
	}
	serverName := cfg.serverName
	if serverName == "" {
		serverName = host
	}

	conn, err := d.DialContext(ctx, "tcp", server)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintf(out, "connected to %s through the bridge\n", conn.RemoteAddr())
	// net/smtp takes no context; the deadline bounds it instead.
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}

	// From here on this is plain net/smtp, as over a kernel socket.
	c, err := smtp.NewClient(conn, serverName)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello(cmp.Or(cfg.helo, "localhost")); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return errors.New("the server offers no STARTTLS; not sending credentials or mail in the clear")
	}
	tlsConfig := &tls.Config{ServerName: serverName}
	if cfg.caPEM != "" {
		tlsConfig.RootCAs = x509.NewCertPool()
		if !tlsConfig.RootCAs.AppendCertsFromPEM([]byte(cfg.caPEM)) {
			return errors.New("-ca holds no PEM certificate")
		}
	}
	if err := c.StartTLS(tlsConfig); err != nil {
		return fmt.Errorf("STARTTLS: %w", err)
	}
	state, _ := c.TLSConnectionState()
	fmt.Fprintf(out, "STARTTLS: %s, %s, certificate of %s verified in this program\n",
		tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite), serverName)

	if cfg.user != "" {
		// PlainAuth refuses to send the password unless the connection is
		// TLS, which it now is.
		if err := c.Auth(smtp.PlainAuth("", cfg.user, cfg.password, serverName)); err != nil {
			return fmt.Errorf("AUTH PLAIN: %w", err)
		}
		fmt.Fprintf(out, "AUTH PLAIN: authenticated as %s\n", cfg.user)
	}

	msg := compose(cfg)
	if err := c.Mail(cfg.from); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, to := range cfg.to {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	fmt.Fprintf(out, "sent %d bytes from %s to %s\n", len(msg), cfg.from, strings.Join(cfg.to, ", "))
	if err := c.Quit(); err != nil {
		return fmt.Errorf("QUIT: %w", err)
	}
	fmt.Fprintln(out, "done")
	return nil
}

// compose builds the message: a few headers and the body, with CRLF line
// ends. net/smtp's DATA writer does the dot-stuffing.
func compose(cfg config) []byte {
	date := cmp.Or(cfg.date, time.Now().Format(time.RFC1123Z))
	id := cfg.messageID
	if id == "" {
		b := make([]byte, 12)
		rand.Read(b)
		id = "<" + hex.EncodeToString(b) + "@wasmnet>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", cfg.from)
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(cfg.to, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", cfg.subject)
	fmt.Fprintf(&b, "Date: %s\r\n", date)
	fmt.Fprintf(&b, "Message-ID: %s\r\n", id)
	b.WriteString("MIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	b.WriteString("\r\n")
	body := strings.ReplaceAll(cfg.body, "\r\n", "\n")
	if body != "" && !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	return []byte(b.String())
}
