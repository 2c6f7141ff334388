//go:build !js && !wasip1

package main

// TLS: from a certificate and key file, tested with a client that trusts
// a throwaway CA; and ACME, wired to autocert, tested without any CA.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"golang.org/x/crypto/acme"

	"github.com/wasmnet/wasmnet/internal/services"
	"github.com/wasmnet/wasmnet/wisp"
)

func TestServeTLS(t *testing.T) {
	echo := startEcho(t)
	ca, err := services.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssuePEM("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, cert, string(certPEM))
	writeFile(t, key, string(keyPEM))
	s := startServe(t, "-tls-cert", cert, "-tls-key", key, "-allow", echo)
	if !strings.HasPrefix(s.wsURL, "wss://127.0.0.1:") {
		t.Fatalf("bridge URL %s, want wss://127.0.0.1:...", s.wsURL)
	}

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
	if body := get(t, client, s.httpURL+"/healthz"); body != "ok\n" {
		t.Errorf("/healthz over https: %q", body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, s.wsURL, &websocket.DialOptions{HTTPClient: client, Subprotocols: []string{"wisp-v2"}})
	if err != nil {
		t.Fatalf("wss handshake: %v", err)
	}
	defer ws.CloseNow()
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 || !resp.TLS.PeerCertificates[0].Equal(mustCert(t, certPEM)) {
		t.Fatalf("the WebSocket is not over TLS 1.2+ with the configured certificate: %+v", resp.TLS)
	}
	wispEcho(t, ws, echo)

	// A client that trusts no such CA is refused its handshake.
	_, err = http.Get(s.httpURL + "/healthz")
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) {
		t.Errorf("https with an untrusted certificate: %v, want a verification error", err)
	}
	// And the port speaks TLS only.
	if _, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.wsURL, "wss"), nil); err == nil {
		t.Errorf("a plain ws:// handshake on the TLS port succeeded")
	}
}

func mustCert(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatal("no certificate in PEM")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wispEcho runs the Wisp v2 handshake on ws, opens a stream to the echo
// server at addr and makes a round trip.
func wispEcho(t *testing.T, ws *websocket.Conn, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	next := func() wisp.Packet {
		t.Helper()
		_, msg, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		p, err := wisp.Decode(msg)
		if err != nil {
			t.Fatalf("the bridge sent a bad packet: %v", err)
		}
		return p
	}
	send := func(p wisp.Packet) {
		t.Helper()
		if err := ws.Write(ctx, websocket.MessageBinary, p.Append(nil)); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	if p := next(); p.Type != wisp.TypeInfo {
		t.Fatalf("first packet %v, want INFO", p.Type)
	}
	send(wisp.Packet{Type: wisp.TypeInfo, Info: wisp.Info{Major: 2, Extensions: []wisp.Extension{{ID: wisp.ExtOpened}}}})
	if p := next(); p.Type != wisp.TypeContinue {
		t.Fatalf("second packet %v, want CONTINUE", p.Type)
	}
	ap := netip.MustParseAddrPort(addr)
	send(wisp.Packet{Type: wisp.TypeConnect, Stream: 1, Connect: wisp.Connect{StreamType: wisp.StreamTCP, Host: ap.Addr().String(), Port: ap.Port()}})
	if p := next(); p.Type != wisp.TypeOpened {
		t.Fatalf("CONNECT %s: got %v (reason %v), want OPENED", addr, p.Type, p.Reason)
	}
	send(wisp.Packet{Type: wisp.TypeData, Stream: 1, Data: []byte("over tls")})
	var got []byte
	for len(got) < len("over tls") {
		p := next()
		if p.Type == wisp.TypeData {
			got = append(got, p.Data...)
		} else if p.Type != wisp.TypeContinue {
			t.Fatalf("got %v (reason %v), want DATA", p.Type, p.Reason)
		}
	}
	if string(got) != "over tls" {
		t.Fatalf("echo over wss: %q", got)
	}
}

// ACME is wired to autocert: TLS-ALPN-01 offered beside HTTP/1.1, only
// the configured names, and an HTTP handler for HTTP-01 that sends
// everything else to https. No CA is contacted: a name outside the list
// is refused before autocert would ask one.
func TestACMEWiring(t *testing.T) {
	clearEnv(t)
	o := parse(t, "-acme-domains", "bridge.example.com, www.bridge.example.com", "-acme-cache", t.TempDir(), "-acme-email", "ops@example.com")
	c, handler, err := o.tls()
	if err != nil {
		t.Fatal(err)
	}
	if c.GetCertificate == nil || c.MinVersion != tls.VersionTLS12 {
		t.Errorf("ACME TLS config: GetCertificate set %v, MinVersion %x", c.GetCertificate != nil, c.MinVersion)
	}
	if !slices.Contains(c.NextProtos, acme.ALPNProto) || !slices.Contains(c.NextProtos, "http/1.1") || slices.Contains(c.NextProtos, "h2") {
		t.Errorf("ALPN %q: want http/1.1 and %s, and no h2 (WebSockets need HTTP/1.1)", c.NextProtos, acme.ALPNProto)
	}
	if _, err := c.GetCertificate(&tls.ClientHelloInfo{ServerName: "evil.example"}); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("certificate for a name not in -acme-domains: %v, want it refused", err)
	}
	if handler == nil {
		t.Fatal("no HTTP-01 handler with the default -acme-http-addr")
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("GET", "http://bridge.example.com/wisp/", nil))
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "https://bridge.example.com/wisp/" {
		t.Errorf("plain HTTP: %d to %q, want a redirect to https", rec.Code, rec.Header().Get("Location"))
	}

	o = parse(t, "-acme-domains", "bridge.example.com", "-acme-http-addr", "")
	if _, handler, err := o.tls(); err != nil || handler != nil {
		t.Errorf("-acme-http-addr '': handler %v, %v; want none (TLS-ALPN-01 only)", handler, err)
	}
}
