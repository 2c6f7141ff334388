// Command httpserver serves HTTP from inside WebAssembly: net/http's own
// server, unchanged, on a wasmnet listener that the bridge opens for it.
// In a browser tab, the tab becomes a web server that other programs, and
// other tabs, reach through the bridge.
//
//	httpserver -listen :0                        # a public port of the bridge
//	httpserver -listen site.wasmnet.internal:80  # a named endpoint
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

func main() {
	def := os.Getenv("HTTPSERVER_LISTEN")
	if def == "" {
		def = ":0"
	}
	listen := flag.String("listen", def, "where to listen through the bridge: a public port (:0 for any) or name.wasmnet.internal:port ($HTTPSERVER_LISTEN)")
	flag.Parse()

	l, err := wasmnet.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpserver:", err)
		os.Exit(1)
	}
	url := "http://" + l.Addr().String() + "/"
	fmt.Println("serving", url)
	announce(url)
	if err := http.Serve(l, newHandler()); err != nil {
		fmt.Fprintln(os.Stderr, "httpserver:", err)
		os.Exit(1)
	}
}
