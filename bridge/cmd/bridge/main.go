//go:build !js && !wasip1

// Command bridge runs the wasmnet bridge: a Wisp v2 relay that opens TCP
// and UDP sockets for web pages, over one WebSocket per page.
//
//	bridge [flags]            serve; see bridge -h
//	bridge token keygen ...   make a key pair for capability tokens
//	bridge token mint ...     mint a token
//	bridge token inspect ...  show and check a token
//
// Every flag of the server has an environment equivalent, named in its
// help text; a flag given on the command line wins.
//
//	bridge -addr :8080 -allow '*:443,mail.example.com:25' -origins app.example.com
//
// docs/OPERATING.md walks through a public deployment.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, stop, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bridge:", err)
		os.Exit(1)
	}
}

// run runs the command. ctx ends when the process is asked to stop; stop
// lets a second signal stop it at once.
func run(ctx context.Context, stop context.CancelFunc, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "token" {
		return tokenCommand(args[1:], stdout, stderr)
	}
	return serve(ctx, stop, args, stderr, nil)
}
