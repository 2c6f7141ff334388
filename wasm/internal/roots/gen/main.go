// Command gen writes the default root certificates of main.wasm as PEM:
// Mozilla's roots, as golang.org/x/crypto/x509roots/fallback carries them.
// "make wasm" runs it to make js/roots.pem:
//
//	go run ./wasm/internal/roots/gen > js/roots.pem
//
// Roots with a constraint beyond X.509 (a date after which the root's
// certificates are distrusted) are left out: PEM cannot carry the
// constraint, and such roots are on their way out of the store.
package main

import (
	"bufio"
	"fmt"
	"os"

	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/wasmnet/wasmnet/wasm/internal/roots"
)

func main() {
	var certs [][]byte
	skipped := 0
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			skipped++
			continue
		}
		certs = append(certs, r.Certificate)
	}
	w := bufio.NewWriter(os.Stdout)
	if err := roots.Encode(w, certs); err != nil {
		fmt.Fprintln(os.Stderr, "roots:", err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "roots:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "roots: %d certificates (%d constrained ones left out)\n", len(certs), skipped)
}
