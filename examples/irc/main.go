// Command irc is IRC in WebAssembly, either side of it.
//
// As a client it connects through a wasmnet bridge, registers, joins a
// channel, says something, prints what the others say until enough of
// them have answered, and leaves.
//
// With -listen it is a server instead: the bridge listens for it, on one
// of its public ports or on a named endpoint, and any IRC client can
// connect there. It prints where, then logs who comes, joins, says what in
// channels, and goes, until its -timeout or until it is stopped.
//
//	irc -server irc.example.org:6667 -nick me   # a client
//	irc -listen :6667                           # a server on a public port of the bridge
//	irc -listen chat.wasmnet.internal:6667      # a server for other sessions of the bridge
//
// The same program runs in a web page (GOOS=js, see index.html), under
// Node.js (GOOS=js), headless in wazero (GOOS=wasip1, package wasm/host),
// and natively. Only the Dial and the Listen differ from a program for
// package net; the IRC code is package irc beside it, which knows nothing
// of wasmnet.
//
// Every string flag can also be given in the environment (IRC_SERVER and
// so on, listed by -h).
package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"time"

	"github.com/wasmnet/wasmnet/examples/internal/cli"
)

// config is what one run does.
type config struct {
	listen   string // where the bridge listens for the server; empty runs the client
	server   string // host:port
	password string // server password; empty sends or wants none
	nick     string
	channel  string
	say      string
	replies  int           // messages from others to wait for before leaving
	timeout  time.Duration // 0 for none
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		cli.Usage("irc", err)
	}
	ctx := context.Background()
	if cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.timeout)
		defer cancel()
	}
	side := run // the client
	if cfg.listen != "" {
		side = serve
	}
	if err := side(ctx, cfg, os.Stdout); err != nil {
		cli.Fail("irc", err)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("irc", flag.ContinueOnError)
	cfg := config{}
	cli.StringVar(fs, &cfg.listen, "listen", "IRC_LISTEN", "", "be the server, listening through the bridge on a public port (:6667, or :0 for any) or on name.wasmnet.internal:port")
	cli.StringVar(fs, &cfg.server, "server", "IRC_SERVER", "", "IRC server to connect to, host:port")
	cli.StringVar(fs, &cfg.password, "password", "IRC_PASSWORD", "", "server password; empty sends none, or as the server wants none")
	cli.StringVar(fs, &cfg.nick, "nick", "IRC_NICK", "wasmnet", "nickname")
	cli.StringVar(fs, &cfg.channel, "channel", "IRC_CHANNEL", "#wasmnet", "channel to join")
	cli.StringVar(fs, &cfg.say, "say", "IRC_SAY", "Hello from Go inside WebAssembly, through wasmnet!", "what to say in the channel")
	fs.IntVar(&cfg.replies, "replies", 1, "messages from others to wait for before leaving; 0 leaves at once")
	fs.DurationVar(&cfg.timeout, "timeout", 2*time.Minute, "bound on the whole run; a server (-listen) has none unless given, and 0 is none")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.listen != "" {
		// A server runs until it is stopped, unless told otherwise.
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == "timeout" })
		if !given {
			cfg.timeout = 0
		}
		return cfg, nil
	}
	if cfg.server == "" {
		return cfg, errors.New("-server or -listen is required")
	}
	return cfg, nil
}
