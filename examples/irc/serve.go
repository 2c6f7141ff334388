package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/wasmnet/wasmnet/examples/irc/irc"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// serve runs an IRC server on a listener of the bridge until ctx ends,
// logging on out who comes, joins, says what in channels, and goes.
func serve(ctx context.Context, cfg config, out io.Writer) error {
	// The one wasmnet call: $WASMNET_BRIDGE, or /wisp/ on the page's
	// origin, listens for us.
	l, err := wasmnet.DefaultDialer.ListenContext(ctx, "tcp", cfg.listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "serving irc://%s/\n", l.Addr())
	announce(l.Addr().String())

	// From here on it is an IRC server on a net.Listener, as on a kernel
	// socket.
	srv := &irc.Server{Password: cfg.password, Log: log.New(out, "", log.Ltime)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// The run's time is up: say goodbye to everyone, briefly.
	fmt.Fprintln(out, "shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	<-served
	fmt.Fprintln(out, "stopped")
	return nil
}
