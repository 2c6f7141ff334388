package wasmnet_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net/smtp"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// These tests run unchanged protocol libraries over wasmnet streams. They
// run natively and, through inside_test.go, inside wasm.

// TestSMTPStartTLS sends a mail with net/smtp. TLS runs in this process,
// end to end: the bridge relays only ciphertext after STARTTLS. The test
// then fetches the message from the sink, through the bridge, and requires
// it byte for byte.
func TestSMTPStartTLS(t *testing.T) {
	e := testEnv(t)
	d := &wasmnet.Dialer{Bridge: e.Bridge}
	defer d.Close()
	sendMail(t, d, e, e.SMTP)
}

// sendMail sends a mail with STARTTLS to the server at addr, which
// presents the sink's certificate, and checks that the sink got it byte
// for byte.
func sendMail(t *testing.T, d *wasmnet.Dialer, e env, addr string) {
	t.Helper()
	marker := randomHex(8)
	msg := "From: tab@wasmnet.test\r\n" +
		"To: sink@wasmnet.test\r\n" +
		"Subject: " + marker + "\r\n" +
		"\r\n" +
		"Sent from inside WebAssembly.\r\n" +
		".A line that starts with a dot survives dot-stuffing.\r\n"

	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.NewClient(conn, "mail.wasmnet.test")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(e.CA)) {
		t.Fatal("bad CA PEM")
	}
	if err := c.StartTLS(&tls.Config{ServerName: "mail.wasmnet.test", RootCAs: roots}); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("tab@wasmnet.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("sink@wasmnet.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, msg); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}

	mb, err := d.Dial("tcp", e.Mailbox)
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	fmt.Fprintf(mb, "%s\n", marker)
	got, err := io.ReadAll(mb)
	if err != nil {
		t.Fatal(err)
	}
	if want := "tls=TLS 1.3\n" + msg; string(got) != want {
		t.Errorf("the sink received\n%q\nwant\n%q", got, want)
	}
}

// TestDNSOverTCP asks a DNS server with miekg/dns over a wasmnet stream.
func TestDNSOverTCP(t *testing.T) {
	e := testEnv(t)
	d := &wasmnet.Dialer{Bridge: e.Bridge}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, q := range []struct {
		qtype uint16
		want  string
	}{
		{dns.TypeA, "192.0.2.1"},
		{dns.TypeAAAA, "2001:db8::1"},
		{dns.TypeMX, "mail.wasmnet.test."},
		{dns.TypeTXT, "hello from wasmnet"},
	} {
		conn, err := d.DialContext(ctx, "tcp", e.DNS)
		if err != nil {
			t.Fatal(err)
		}
		client := &dns.Client{Net: "tcp"}
		req := new(dns.Msg).SetQuestion("wasmnet.test.", q.qtype)
		resp, _, err := client.ExchangeWithConnContext(ctx, req, &dns.Conn{Conn: conn})
		conn.Close()
		if err != nil {
			t.Fatalf("%s: %v", dns.TypeToString[q.qtype], err)
		}
		if len(resp.Answer) != 1 || answer(resp.Answer[0]) != q.want {
			t.Errorf("%s: got %v, want %s", dns.TypeToString[q.qtype], resp.Answer, q.want)
		}
	}
}

func answer(rr dns.RR) string {
	switch rr := rr.(type) {
	case *dns.A:
		return rr.A.String()
	case *dns.AAAA:
		return rr.AAAA.String()
	case *dns.MX:
		return rr.Mx
	case *dns.TXT:
		if len(rr.Txt) == 1 {
			return rr.Txt[0]
		}
	}
	return rr.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
