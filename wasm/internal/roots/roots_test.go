package roots

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// TestRoundTrip: what gen writes, Parse reads back whole, and Mozilla's
// roots are in it.
func TestRoundTrip(t *testing.T) {
	var certs [][]byte
	var names []string
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		c, err := x509.ParseCertificate(r.Certificate)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, r.Certificate)
		names = append(names, c.Subject.CommonName)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, certs); err != nil {
		t.Fatal(err)
	}
	pool, n, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if n != len(certs) || n < 100 {
		t.Fatalf("Parse took %d certificates of %d written; want them all, and over 100", n, len(certs))
	}
	if !strings.Contains(strings.Join(names, "\n"), "ISRG Root X1") {
		t.Error("no ISRG Root X1 (Let's Encrypt) among the roots")
	}
	c, _ := x509.ParseCertificate(certs[0])
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
		t.Errorf("a root does not verify against the pool it is in: %v", err)
	}
}

func TestParseRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"empty":      "",
		"not PEM":    "hello",
		"a key":      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"broken DER": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	} {
		if _, _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: Parse took it", name)
		}
	}
}
