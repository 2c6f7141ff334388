//go:build js && wasm

// Command main is main.wasm, the wasmnet runtime for web pages and
// Workers. It registers globalThis.wasmnet (package jsapi) and then waits
// forever; js/wasmnet.js loads it, and js/sockets.js builds TCPSocket on
// it.
//
// TLS runs here, in crypto/tls. A js/wasm program has no system root
// certificates: it trusts only the roots a package registers with
// x509.SetFallbackRoots, such as golang.org/x/crypto/x509roots/fallback
// (Mozilla's roots, about 100 KB of main.wasm.br), and those a page passes
// in caCerts. That module is not a dependency yet, so for now only the
// roots a page passes are trusted; adding the import below is all it
// takes.
//
// Build it with "make wasm" (GOOS=js GOARCH=wasm go build -o main.wasm ./wasm).
package main

import (
	"fmt"
	"os"

	"github.com/hack-pad/safejs"

	"github.com/wasmnet/wasmnet/wasm/internal/jsapi"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
	// _ "golang.org/x/crypto/x509roots/fallback" // built-in roots: needs the module in go.mod
)

func main() {
	if err := jsapi.Register(wasmnet.DefaultDialer); err != nil {
		fmt.Fprintln(os.Stderr, "wasmnet:", err)
		os.Exit(1)
	}
	// Tell the loader the API is in place.
	if ready, err := safejs.Global().Get("__wasmnetReady"); err == nil && !ready.IsUndefined() {
		ready.Invoke()
	}
	select {}
}
