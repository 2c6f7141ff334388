//go:build !js && !wasip1

// Command demo is what "make run" starts: the bridge, serving the demo page
// and main.wasm on localhost, beside a few small services on loopback that
// the page reaches through the bridge: an echo server, a DNS server and a
// mail sink with STARTTLS. The bridge's policy allows exactly those.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to serve the page and the bridge on")
	root := flag.String("root", ".", "directory holding index.html, main.wasm and js/")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	d, err := start(*root, defaultPorts, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	defer d.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Printf("wasmnet demo: open http://%s/  (bridge at ws://%s/wisp/; Ctrl-C stops)\n", ln.Addr(), ln.Addr())

	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d.bridge.Close()
	srv.Shutdown(shutdown)
}
