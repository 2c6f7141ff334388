//go:build js && wasm

// Command main is main.wasm, the wasmnet runtime for web pages and
// Workers. It registers globalThis.wasmnet (package jsapi) and then waits
// forever; js/wasmnet.js loads it, and js/sockets.js builds TCPSocket on
// it.
//
// TLS runs here, in crypto/tls. A js/wasm program has no system root
// certificates: its default roots are Mozilla's, fetched from js/roots.pem
// the first time a handshake needs them (package roots says why they are
// not built in), and a page may add its own in caCerts.
//
// Build it with "make wasm" (GOOS=js GOARCH=wasm go build -o main.wasm ./wasm).
package main

import (
	"fmt"
	"os"

	"github.com/hack-pad/safejs"

	"github.com/wasmnet/wasmnet/wasm/internal/jsapi"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

func main() {
	if err := jsapi.Register(&wasmnet.Dialer{}); err != nil {
		fmt.Fprintln(os.Stderr, "wasmnet:", err)
		os.Exit(1)
	}
	// Tell the loader the API is in place.
	if ready, err := safejs.Global().Get("__wasmnetReady"); err == nil && !ready.IsUndefined() {
		ready.Invoke()
	}
	select {}
}
