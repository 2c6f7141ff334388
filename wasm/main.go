//go:build js && wasm

// Command main is main.wasm, the wasmnet runtime for web pages and
// Workers. It registers globalThis.wasmnet (package jsapi) and then waits
// forever; js/wasmnet.js loads it and builds the socket classes on it.
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
