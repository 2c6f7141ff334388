package xmpp

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
)

// Config says who a client is.
type Config struct {
	// JID is the account, local@domain, optionally with the resource
	// to ask for: local@domain/resource.
	JID      string
	Password string

	// TLS configures STARTTLS. Nil means the defaults. An empty
	// ServerName means the JID's domain, and nil RootCAs the system's
	// roots (a program in WebAssembly has none: set RootCAs).
	TLS *tls.Config

	// Mechanisms are the SASL mechanisms to try, best first. Empty means
	// DefaultMechanisms.
	Mechanisms []string
}

// A Client is a negotiated XMPP session: authenticated, with a resource
// bound, ready to send and receive stanzas.
type Client struct {
	s    *stream
	wmu  sync.Mutex // serializes writes across streams
	tls  *tls.Conn
	jid  JID
	mech string
	ids  atomic.Uint64

	// After negotiation a goroutine reads stanzas into in, so that a
	// context ending a Next never interrupts the XML decoder mid-element.
	in        chan any
	readErr   error         // set before in is closed
	closed    chan struct{} // closed by Close: the reader stops
	closeOnce sync.Once
}

// NewClient negotiates a session on conn, a connection to the server of
// cfg.JID's domain: stream, STARTTLS (unless conn is already a
// *tls.Conn), SASL, resource binding. ctx bounds the negotiation. On
// failure conn is closed.
func NewClient(ctx context.Context, conn net.Conn, cfg Config) (*Client, error) {
	c := &Client{}
	if err := c.negotiate(ctx, conn, cfg); err != nil {
		conn.Close()
		return nil, err
	}
	c.in = make(chan any)
	c.closed = make(chan struct{})
	go c.read()
	return c, nil
}

func (c *Client) negotiate(ctx context.Context, conn net.Conn, cfg Config) error {
	jid, err := ParseJID(cfg.JID)
	if err != nil {
		return err
	}
	if jid.Local == "" {
		return errors.New("xmpp: the JID has no local part: " + cfg.JID)
	}
	c.s = newStream(conn, &c.wmu)
	if tc, ok := conn.(*tls.Conn); ok {
		c.tls = tc
	}
	f, err := c.s.open(ctx, jid.Domain)
	if err != nil {
		return err
	}
	if c.tls == nil {
		if f.StartTLS == nil {
			return errors.New("xmpp: the server offers no STARTTLS; not authenticating in the clear")
		}
		tlsConfig := &tls.Config{}
		if cfg.TLS != nil {
			tlsConfig = cfg.TLS.Clone()
		}
		tlsConfig.ServerName = cmp.Or(tlsConfig.ServerName, jid.Domain)
		if err := c.startTLS(ctx, tlsConfig); err != nil {
			return err
		}
		if f, err = c.s.open(ctx, jid.Domain); err != nil {
			return err
		}
	}

	if f.Mechanisms == nil {
		return errors.New("xmpp: the server offers no SASL authentication")
	}
	want := cfg.Mechanisms
	if len(want) == 0 {
		want = DefaultMechanisms
	}
	if err := c.authenticate(ctx, f.Mechanisms.Names, want, jid.Local, cfg.Password); err != nil {
		return err
	}
	// After SASL the stream starts again, on the same connection.
	c.s = newStream(c.s.conn, &c.wmu)
	if f, err = c.s.open(ctx, jid.Domain); err != nil {
		return err
	}

	if f.Bind == nil {
		return errors.New("xmpp: the server offers no resource binding")
	}
	if c.jid, err = c.bind(ctx, jid.Resource); err != nil {
		return err
	}
	if f.Session != nil && f.Session.Optional == nil {
		if err := c.startSession(ctx); err != nil {
			return err
		}
	}
	return nil
}

// JID is the full JID the server bound: local@domain/resource.
func (c *Client) JID() JID { return c.jid }

// Mechanism is the SASL mechanism that authenticated the client.
func (c *Client) Mechanism() string { return c.mech }

// TLSConnectionState describes the TLS of the stream.
func (c *Client) TLSConnectionState() tls.ConnectionState { return c.tls.ConnectionState() }

// Send sends a stanza: a *Message, a *Presence or an *IQ.
func (c *Client) Send(ctx context.Context, stanza any) error {
	return c.s.send(ctx, stanza)
}

// SendPresence announces the client as available, which it must be for
// the server to deliver messages sent to its bare JID (RFC 6121,
// section 4.2).
func (c *Client) SendPresence(ctx context.Context) error {
	return c.Send(ctx, &Presence{})
}

// Next returns the next stanza from the server: a *Message, a *Presence
// or an *IQ result or error. IQ requests are answered here. The end of
// the server's stream is io.EOF, and a stream error a *StreamError. When
// ctx ends, Next returns and the stream is still usable.
func (c *Client) Next(ctx context.Context) (any, error) {
	select {
	case st, ok := <-c.in:
		if !ok {
			return nil, c.readErr
		}
		return st, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("xmpp: %w", context.Cause(ctx))
	}
}

// NextMessage is Next for messages only: it skips other stanzas.
func (c *Client) NextMessage(ctx context.Context) (*Message, error) {
	for {
		st, err := c.Next(ctx)
		if err != nil {
			return nil, err
		}
		if m, ok := st.(*Message); ok {
			return m, nil
		}
	}
}

// Close ends the stream and waits, within ctx, for the server to end
// its own, which means it has handled every stanza sent before. Then it
// closes the connection.
func (c *Client) Close(ctx context.Context) error {
	defer c.closeOnce.Do(func() { close(c.closed) })
	defer c.s.conn.Close()
	if err := c.s.write(ctx, "</stream:stream>"); err != nil {
		return err
	}
	for {
		if _, err := c.Next(ctx); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil // the server ended its stream, or just the connection
			}
			return err
		}
	}
}

// read reads stanzas until the stream ends or fails.
func (c *Client) read() {
	defer close(c.in)
	for {
		st, err := c.readStanza()
		if err != nil {
			c.readErr = err
			return
		}
		if st != nil {
			select {
			case c.in <- st:
			case <-c.closed:
				return
			}
		}
	}
}

// readStanza reads one element: a stanza, or nil for anything else.
func (c *Client) readStanza() (any, error) {
	el, err := c.s.next()
	if err != nil {
		return nil, err
	}
	var st any
	switch {
	case el.Name.Space != nsClient:
	case el.Name.Local == "message":
		st = &Message{}
	case el.Name.Local == "presence":
		st = &Presence{}
	case el.Name.Local == "iq":
		st = &IQ{}
	}
	if st == nil {
		return nil, c.s.dec.Skip()
	}
	if err := c.s.dec.DecodeElement(st, &el); err != nil {
		return nil, err
	}
	if iq, ok := st.(*IQ); ok && (iq.Type == "get" || iq.Type == "set") {
		// RFC 6120, section 8.4: an IQ request that is not understood
		// gets service-unavailable.
		return nil, c.Send(context.Background(), &IQ{ID: iq.ID, To: iq.From, Type: "error",
			Error: &StanzaError{Type: "cancel", Condition: "service-unavailable"}})
	}
	return st, nil
}

func (c *Client) newID() string {
	return "wasmnet-" + strconv.FormatUint(c.ids.Add(1), 10)
}
