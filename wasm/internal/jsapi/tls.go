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
	"os"
	"sync"
	"time"

	"github.com/wasmnet/wasmnet/wasm/internal/roots"
	"github.com/wasmnet/wasmnet/wasm/internal/webapi"
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

// Pools of the default roots plus extra PEM, by the PEM, so that sockets
// that pass the same CA do not parse it again. Few distinct PEMs are
// expected; the cache is bounded all the same.
var (
	poolMu sync.Mutex
	pools  = map[string]*x509.CertPool{}
)

// rootPool returns the roots to verify against: the default roots, plus
// the certificates in pem. Without default roots (none configured, or
// their file could not be fetched), pem alone is trusted; with neither, a
// handshake fails for an unknown authority, and tlsError says why.
func rootPool(pem string) (*x509.CertPool, error) {
	base, baseErr := defaultRoots()
	if pem == "" {
		if base == nil {
			base = x509.NewCertPool() // trust nothing, rather than fall back
		}
		return base, nil
	}
	_ = baseErr // tlsError reports it if the handshake fails
	poolMu.Lock()
	defer poolMu.Unlock()
	if p := pools[pem]; p != nil {
		return p, nil
	}
	p := x509.NewCertPool()
	if base != nil {
		p = base.Clone()
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

// The default roots, fetched from $WASMNET_ROOTS (the loader sets it to
// js/roots.pem beside wasmnet.js) the first time a handshake needs them:
// building Mozilla's roots into main.wasm would make every page download
// them, TLS or not. A failed fetch is tried again by the next handshake.
var (
	rootsMu    sync.Mutex
	rootsPool  *x509.CertPool
	rootsCount int
)

// defaultRoots returns the default roots, or nil and why there are none.
func defaultRoots() (*x509.CertPool, error) {
	rootsMu.Lock()
	defer rootsMu.Unlock()
	if rootsPool != nil {
		return rootsPool, nil
	}
	url := os.Getenv("WASMNET_ROOTS")
	if url == "" {
		return nil, errNoRootsURL
	}
	data, err := webapi.Fetch(url)
	if err != nil {
		return nil, fmt.Errorf("cannot load the default root certificates: %w", err)
	}
	pool, n, err := roots.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("the default root certificates at %s: %w", url, err)
	}
	rootsPool, rootsCount = pool, n
	return pool, nil
}

// loadedRoots is how many default roots are loaded: 0 until a handshake
// has needed them.
func loadedRoots() int {
	rootsMu.Lock()
	defer rootsMu.Unlock()
	return rootsCount
}

var errNoRootsURL = errors.New("this runtime has no default root certificates (WASMNET_ROOTS is not set)")

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
	hint := "for a private CA, pass its certificate in caCerts"
	if _, err := defaultRoots(); err != nil {
		hint = err.Error() + "; " + hint
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
