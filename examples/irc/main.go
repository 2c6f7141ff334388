// Command irc is an IRC client in WebAssembly: it connects through a
// wasmnet bridge, registers, joins a channel, says something, prints what
// the others say until enough of them have answered, and leaves.
//
// The same program runs in a web page (GOOS=js, see index.html), under
// Node.js (GOOS=js), headless in wazero (GOOS=wasip1, package wasm/host),
// and natively. Only the Dial differs from a program for package net; the
// IRC code is package irc beside it, which knows nothing of wasmnet.
//
// Every string flag can also be given in the environment (IRC_SERVER and
// so on, listed by -h).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"
)

// config is what one run does.
type config struct {
	server   string // host:port
	password string // server password; empty sends none
	nick     string
	channel  string
	say      string
	replies  int // messages from others to wait for before leaving
	timeout  time.Duration
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "irc:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "irc:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("irc", flag.ContinueOnError)
	cfg := config{}
	str := func(p *string, name, env, def, usage string) {
		v := os.Getenv(env)
		if v == "" {
			v = def
		}
		fs.StringVar(p, name, v, usage+" ($"+env+")")
	}
	str(&cfg.server, "server", "IRC_SERVER", "", "IRC server, host:port")
	str(&cfg.password, "password", "IRC_PASSWORD", "", "server password; empty sends none")
	str(&cfg.nick, "nick", "IRC_NICK", "wasmnet", "nickname")
	str(&cfg.channel, "channel", "IRC_CHANNEL", "#wasmnet", "channel to join")
	str(&cfg.say, "say", "IRC_SAY", "Hello from Go inside WebAssembly, through wasmnet!", "what to say in the channel")
	fs.IntVar(&cfg.replies, "replies", 1, "messages from others to wait for before leaving; 0 leaves at once")
	fs.DurationVar(&cfg.timeout, "timeout", 2*time.Minute, "bound on the whole run")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.server == "" {
		return cfg, errors.New("-server is required")
	}
	return cfg, nil
}
