// Package roots reads the root certificates that main.wasm trusts by
// default. A js/wasm program has no system store, and building Mozilla's
// roots into main.wasm would add about a tenth to what every page
// downloads, sockets with TLS or not. So "make wasm" writes them to
// js/roots.pem (see gen/), and main.wasm fetches and parses that file the
// first time a TLS socket needs the default roots.
package roots

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
)

// Encode writes certificates, each DER-encoded, as PEM.
func Encode(w io.Writer, certs [][]byte) error {
	for _, der := range certs {
		if err := pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: der}); err != nil {
			return err
		}
	}
	return nil
}

// Parse reads PEM certificates into a pool, and says how many it took. A
// block that is not a certificate, or does not parse, is an error: the
// file is ours, so anything else in it means it is not what we wrote.
func Parse(data []byte) (*x509.CertPool, int, error) {
	pool := x509.NewCertPool()
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, 0, fmt.Errorf("roots: a PEM block of type %q", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, 0, fmt.Errorf("roots: certificate %d: %w", n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, 0, errors.New("roots: no certificates")
	}
	return pool, n, nil
}
