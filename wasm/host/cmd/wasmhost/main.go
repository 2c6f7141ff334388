//go:build !js && !wasip1

// Command wasmhost runs a program built for GOOS=wasip1 headless, in
// wazero, with its wasmnet sockets relayed to a bridge.
//
//	GOOS=wasip1 GOARCH=wasm go build -o prog.wasm ./prog
//	wasmhost -bridge ws://localhost:8080/wisp/ prog.wasm -some-flag arg
//
// What the program prints, on stdout or stderr, comes out on stdout; its
// exit status is wasmhost's. Compiled code is cached (see -cache), so the
// second run of a program starts at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/wasmnet/wasmnet/wasm/host"
)

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	bridge := flag.String("bridge", os.Getenv("WASMNET_BRIDGE"), "bridge `URL` for the program's default Dialer ($WASMNET_BRIDGE)")
	cache := flag.String("cache", "", "compilation cache `dir`; empty means one under the user's cache directory")
	var env, dirs list
	flag.Var(&env, "env", "`KEY=VALUE` in the program's environment (repeatable)")
	flag.Var(&dirs, "dir", "`GUEST=HOST`: mount a host directory (repeatable)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: wasmhost [flags] program.wasm [args...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 {
		flag.Usage()
		os.Exit(2)
	}

	cfg := host.Config{Bridge: *bridge, Args: flag.Args()[1:], Env: map[string]string{}, Dirs: map[string]string{}, Output: os.Stdout}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			fatal(fmt.Errorf("-env %q: want KEY=VALUE", kv))
		}
		cfg.Env[k] = v
	}
	for _, d := range dirs {
		g, h, ok := strings.Cut(d, "=")
		if !ok {
			fatal(fmt.Errorf("-dir %q: want GUEST=HOST", d))
		}
		cfg.Dirs[g] = h
	}
	wasm, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m, err := host.Compile(ctx, wasm, *cache)
	if err != nil {
		fatal(err)
	}
	err = m.Run(ctx, cfg)
	m.Close(context.Background())
	var exit *host.ExitError
	switch {
	case errors.As(err, &exit):
		os.Exit(int(exit.Code))
	case err != nil:
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "wasmhost:", err)
	os.Exit(1)
}
