//go:build js && wasm

package jsapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// handshakeTimeout bounds a TLS handshake, so that a server that never
// answers does not leave opened pending for ever.
const handshakeTimeout = 30 * time.Second

// handshake runs a TLS client handshake over conn with crypto/tls, here in
// WebAssembly: the bridge relays only ciphertext. addr names the peer in
// errors.
func handshake(conn net.Conn, o tlsOptions, addr string) (*tls.Conn, error) {
	roots, err := rootPool(o.caPEM)
	if err != nil {
		return nil, err
	}
	t := tls.Client(conn, &tls.Config{
		ServerName: o.serverName,
		RootCAs:    roots,
		MinVersion: tls.VersionTLS12,
	})
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	if err := t.HandshakeContext(ctx); err != nil {
		return nil, tlsError(err, o.serverName, addr)
	}
	return t, nil
}

// Pools of the built-in roots plus extra PEM, by the PEM, so that sockets
// that pass the same CA do not parse it again. Few distinct PEMs are
// expected; the cache is bounded all the same.
var (
	poolMu sync.Mutex
	pools  = map[string]*x509.CertPool{}
)

// rootPool returns the roots to verify against: nil for the built-in ones
// alone, else those plus the certificates in pem.
func rootPool(pem string) (*x509.CertPool, error) {
	if pem == "" {
		return nil, nil
	}
	poolMu.Lock()
	defer poolMu.Unlock()
	if p := pools[pem]; p != nil {
		return p, nil
	}
	p, err := x509.SystemCertPool()
	if err != nil {
		p = x509.NewCertPool()
	}
	if !p.AppendCertsFromPEM([]byte(pem)) {
		return nil, typeError("caCerts holds no PEM certificate")
	}
	if len(pools) >= 16 {
		clear(pools)
	}
	pools[pem] = p
	return p, nil
}

// builtinRoots reports whether main.wasm carries root certificates: a
// js/wasm program has no system store, so it has only the roots a package
// such as golang.org/x/crypto/x509roots/fallback registers.
var builtinRoots = sync.OnceValue(func() bool {
	p, err := x509.SystemCertPool()
	return err == nil && !p.Equal(x509.NewCertPool())
})

// tlsError says why a handshake failed. A certificate that does not verify
// is a SecurityError; anything else, a NetworkError or a TimeoutError.
func tlsError(err error, serverName, addr string) error {
	var (
		host    x509.HostnameError
		unknown x509.UnknownAuthorityError
		invalid x509.CertificateInvalidError
		noRoots x509.SystemRootsError
	)
	prefix := fmt.Sprintf("wasmnet: TLS with %s (%s) failed", addr, serverName)
	hint := "pass the certificate of the issuing CA in caCerts"
	if !builtinRoots() {
		hint = "this main.wasm has no built-in root certificates: " + hint
	}
	switch {
	case errors.As(err, &host):
		return named(securityError, fmt.Errorf("%s: the certificate is not valid for the expected server name: %w", prefix, host))
	case errors.As(err, &unknown), errors.As(err, &noRoots):
		return named(securityError, fmt.Errorf("%s: the certificate is signed by an unknown authority (%s)", prefix, hint))
	case errors.As(err, &invalid):
		return named(securityError, fmt.Errorf("%s: the certificate is not valid: %w", prefix, invalid))
	case errors.Is(err, context.DeadlineExceeded):
		return named(timeoutError, fmt.Errorf("%s: no handshake within %v", prefix, handshakeTimeout))
	}
	var op *net.OpError
	switch {
	case errors.As(err, &op):
		return domError(err) // the stream under TLS failed: the bridge, a reset, a close
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return named(networkError, fmt.Errorf("%s: the server closed the connection during the handshake", prefix))
	}
	return named(networkError, fmt.Errorf("%s: %w", prefix, err))
}
