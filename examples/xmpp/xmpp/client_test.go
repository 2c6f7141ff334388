package xmpp

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/internal/services"
)

// A step of a canned session: what the client must send (a piece of its
// output, in order), then what the server answers. With startTLS, the
// server runs a TLS handshake after its answer, and the rest of the
// session is inside TLS.
type step struct {
	client, server string
	startTLS       bool
}

// Openings the server sends.
const (
	header         = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='wasmnet.test' id='s1' version='1.0' xml:lang='en'>"
	tlsFeatures    = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"
	bindFeatures   = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>"
	clientHeader   = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='wasmnet.test' version='1.0' xml:lang='en'>"
	proceed        = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
	saslNS         = "urn:ietf:params:xml:ns:xmpp-sasl"
	mechanisms     = "<stream:features><mechanisms xmlns='" + saslNS + "'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>"
	onlyPlain      = "<stream:features><mechanisms xmlns='" + saslNS + "'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"
	bindRequest    = `<iq xmlns="jabber:client" type="set" id="wasmnet-1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>phone</resource></bind></iq>`
	bindResult     = "<iq type='result' id='wasmnet-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@wasmnet.test/phone</jid></bind></iq>"
	sessionRequest = "<iq xmlns='jabber:client' type='set' id='wasmnet-2'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// upToTLS is a session until TLS is up and the stream restarted.
var upToTLS = []step{
	{client: clientHeader, server: header + tlsFeatures},
	{client: "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", server: proceed, startTLS: true},
	{client: clientHeader, server: header},
}

// scramSHA1Auth is SASL with RFC 5802's exchange, after TLS.
func scramSHA1Auth() []step {
	v := scramVectors[0]
	return []step{
		{server: mechanisms},
		{client: "<auth xmlns='" + saslNS + "' mechanism='SCRAM-SHA-1'>" + b64(v.clientFirst) + "</auth>",
			server: "<challenge xmlns='" + saslNS + "'>" + b64(v.serverFirst) + "</challenge>"},
		{client: "<response xmlns='" + saslNS + "'>" + b64(v.clientFinal) + "</response>",
			server: "<success xmlns='" + saslNS + "'>" + b64(v.serverFinal) + "</success>"},
	}
}

// serve plays a canned server on a loopback TCP connection and returns
// the client's end and the CA the server's certificate comes from. The
// test fails if the client does not send what the script says, in order.
func serve(t *testing.T, script []step) (net.Conn, *services.CA) {
	t.Helper()
	ca, err := services.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig, err := ca.ServerTLS("wasmnet.test")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		cli.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("the canned server did not stop")
		}
	})
	go func() {
		defer close(done)
		var conn net.Conn = srv
		defer func() { conn.Close() }()
		srv.SetDeadline(time.Now().Add(10 * time.Second))
		var got strings.Builder
		buf := make([]byte, 4096)
		for _, s := range script {
			for !strings.Contains(got.String(), s.client) {
				n, err := conn.Read(buf)
				if err != nil {
					t.Errorf("server waiting for %q: %v; the client sent %q", s.client, err, got.String())
					return
				}
				got.Write(buf[:n])
			}
			_, rest, _ := strings.Cut(got.String(), s.client)
			got.Reset()
			got.WriteString(rest)
			if _, err := io.WriteString(conn, s.server); err != nil {
				t.Errorf("server writing %q: %v", s.server, err)
				return
			}
			if s.startTLS {
				conn = tls.Server(srv, tlsConfig)
			}
		}
		// Then read whatever comes until the client hangs up.
		io.Copy(io.Discard, conn)
	}()
	return cli, ca
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testConfig(ca *services.CA) Config {
	return Config{JID: "user@wasmnet.test/phone", Password: "pencil", TLS: &tls.Config{RootCAs: ca.Pool}}
}

// The whole session, as prosody plays it, with RFC 5802's SCRAM exchange.
func TestSession(t *testing.T) {
	fixNonce(t, scramVectors[0].nonce)
	script := append(append(upToTLS, scramSHA1Auth()...), []step{
		{client: clientHeader, server: header + bindFeatures},
		{client: bindRequest, server: bindResult},
		{client: sessionRequest, server: "<iq type='result' id='wasmnet-2'/>"},
		{client: `<presence xmlns="jabber:client"></presence>`,
			server: "<presence from='user@wasmnet.test/phone' to='user@wasmnet.test/phone'/>" +
				"<iq type='get' id='ping1' from='wasmnet.test'><ping xmlns='urn:xmpp:ping'/></iq>" +
				"<r xmlns='urn:xmpp:sm:3'/>" +
				"<message from='bob@wasmnet.test/x' to='user@wasmnet.test/phone' type='chat' id='m1'><body>hello &amp; welcome</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>"},
		{client: `<iq xmlns="jabber:client" id="ping1" to="wasmnet.test" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"></service-unavailable></error></iq>`},
		{client: `<message xmlns="jabber:client" to="bob@wasmnet.test/x" type="chat"><body>hi &lt;bob&gt;</body></message>`,
			server: "<message from='bob@wasmnet.test' type='error'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>gone</text></error></message>"},
		{client: "</stream:stream>", server: "</stream:stream>"},
	}...)
	conn, ca := serve(t, script)
	ctx := testContext(t)
	c, err := NewClient(ctx, conn, testConfig(ca))
	if err != nil {
		t.Fatal(err)
	}
	if c.JID().String() != "user@wasmnet.test/phone" || c.Mechanism() != "SCRAM-SHA-1" || c.TLSConnectionState().Version != tls.VersionTLS13 {
		t.Errorf("JID %v, mechanism %s, TLS %x", c.JID(), c.Mechanism(), c.TLSConnectionState().Version)
	}
	if err := c.SendPresence(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := c.Next(ctx)
	if p, ok := st.(*Presence); err != nil || !ok || p.From != "user@wasmnet.test/phone" {
		t.Fatalf("Next = %#v, %v; want our own presence", st, err)
	}
	m, err := c.NextMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.From != "bob@wasmnet.test/x" || m.Body != "hello & welcome" || m.Type != "chat" || m.ID != "m1" {
		t.Errorf("message %#v", m)
	}
	if err := c.Send(ctx, &Message{To: m.From, Type: "chat", Body: "hi <bob>"}); err != nil {
		t.Fatal(err)
	}
	m, err = c.NextMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != "error" || m.Error == nil || m.Error.Condition != "item-not-found" || m.Error.Text != "gone" {
		t.Errorf("error message %#v, %#v", m, m.Error)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPlain(t *testing.T) {
	script := append(upToTLS, []step{
		{server: onlyPlain},
		{client: "<auth xmlns='" + saslNS + "' mechanism='PLAIN'>" + b64("\x00user\x00pencil") + "</auth>",
			server: "<success xmlns='" + saslNS + "'/>"},
		{client: clientHeader, server: header + "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"},
		{client: bindRequest, server: bindResult},
	}...)
	conn, ca := serve(t, script)
	c, err := NewClient(testContext(t), conn, testConfig(ca))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mechanism() != "PLAIN" {
		t.Errorf("mechanism %s", c.Mechanism())
	}
}

func TestWrongPassword(t *testing.T) {
	script := append(upToTLS, []step{
		{server: onlyPlain},
		{client: "</auth>", server: "<failure xmlns='" + saslNS + "'><not-authorized/><text>Unable to authorize you</text></failure>"},
	}...)
	conn, ca := serve(t, script)
	_, err := NewClient(testContext(t), conn, testConfig(ca))
	var e *AuthError
	if !errors.As(err, &e) || e.Condition != "not-authorized" || e.Text != "Unable to authorize you" {
		t.Fatalf("NewClient = %v, want not-authorized", err)
	}
}

// A server that cannot prove it knows the password is refused, even if it
// says success.
func TestSCRAMServerMustProve(t *testing.T) {
	v := scramVectors[0]
	fixNonce(t, v.nonce)
	for name, final := range map[string]string{
		"none":   "<success xmlns='" + saslNS + "'/>",
		"forged": "<success xmlns='" + saslNS + "'>" + b64("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=") + "</success>",
	} {
		t.Run(name, func(t *testing.T) {
			script := append(upToTLS, []step{
				{server: mechanisms},
				{client: "</auth>", server: "<challenge xmlns='" + saslNS + "'>" + b64(v.serverFirst) + "</challenge>"},
				{client: "</response>", server: final},
			}...)
			conn, ca := serve(t, script)
			_, err := NewClient(testContext(t), conn, testConfig(ca))
			if err == nil || !strings.Contains(err.Error(), "password") {
				t.Fatalf("NewClient = %v, want the server's proof refused", err)
			}
		})
	}
}

// Without STARTTLS the client sends no credentials.
func TestNoSTARTTLS(t *testing.T) {
	conn, ca := serve(t, []step{{client: clientHeader, server: header + mechanisms}})
	_, err := NewClient(testContext(t), conn, testConfig(ca))
	if err == nil || !strings.Contains(err.Error(), "no STARTTLS") {
		t.Fatalf("NewClient = %v", err)
	}
}

func TestUntrustedCertificate(t *testing.T) {
	conn, _ := serve(t, upToTLS[:2])
	other, err := services.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewClient(testContext(t), conn, testConfig(other))
	if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("NewClient = %v", err)
	}
}

func TestStreamError(t *testing.T) {
	conn, ca := serve(t, []step{{client: clientHeader, server: header +
		"<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>no such host</text></stream:error></stream:stream>"}})
	_, err := NewClient(testContext(t), conn, testConfig(ca))
	var e *StreamError
	if !errors.As(err, &e) || e.Condition != "host-unknown" || e.Text != "no such host" {
		t.Fatalf("NewClient = %v, want a host-unknown *StreamError", err)
	}
}

// A context that ends returns Next, and the stream goes on.
func TestNextContext(t *testing.T) {
	script := append(upToTLS, []step{
		{server: onlyPlain},
		{client: "</auth>", server: "<success xmlns='" + saslNS + "'/>"},
		{client: clientHeader, server: header + "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"},
		{client: bindRequest, server: bindResult},
		{client: "<body>ping</body>", server: "<message from='bob@wasmnet.test'><body>pong</body></message>"},
	}...)
	conn, ca := serve(t, script)
	c, err := NewClient(testContext(t), conn, testConfig(ca))
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next = %v, want context.DeadlineExceeded", err)
	}
	ctx := testContext(t)
	if err := c.Send(ctx, &Message{To: "bob@wasmnet.test", Body: "ping"}); err != nil {
		t.Fatal(err)
	}
	if m, err := c.NextMessage(ctx); err != nil || m.Body != "pong" {
		t.Fatalf("NextMessage = %#v, %v", m, err)
	}
}
