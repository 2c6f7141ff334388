// Command xmpp is an XMPP client in WebAssembly: it connects through a
// wasmnet bridge, negotiates the stream (STARTTLS with TLS inside this
// program, SASL, a resource), announces itself, sends a message, prints
// the messages that arrive until enough have, and ends the stream.
//
// The same program runs in a web page (GOOS=js, see index.html), under
// Node.js (GOOS=js), headless in wazero (GOOS=wasip1, package wasm/host),
// and natively. Only the Dial differs from a program for package net; the
// XMPP code is package xmpp beside it, which knows nothing of wasmnet.
//
// Every string flag can also be given in the environment (XMPP_JID and so
// on, listed by -h); the password and the CA are best passed that way.
package main

import (
	"context"
	"errors"
	"flag"
	"net"
	"os"
	"time"

	"github.com/wasmnet/wasmnet/examples/internal/cli"
	"github.com/wasmnet/wasmnet/examples/xmpp/xmpp"
)

// config is what one run does.
type config struct {
	jid        string // local@domain[/resource]
	password   string
	server     string // host:port; empty: the JID's domain, port 5222
	serverName string // the name in the server's certificate; empty: the JID's domain
	caPEM      string // trusted CA certificates, PEM; empty: the system's
	to         string // whom to send the message to; empty: send nothing
	message    string
	replies    int // messages to wait for before leaving
	timeout    time.Duration
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		cli.Usage("xmpp", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		cli.Fail("xmpp", err)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("xmpp", flag.ContinueOnError)
	var cfg config
	var ca string
	cli.StringVar(fs, &cfg.jid, "jid", "XMPP_JID", "", "account, local@domain or local@domain/resource")
	cli.StringVar(fs, &cfg.password, "password", "XMPP_PASSWORD", "", "password")
	cli.StringVar(fs, &cfg.server, "server", "XMPP_SERVER", "", "server, host:port; empty means the JID's domain, port 5222 (no SRV lookup)")
	cli.StringVar(fs, &cfg.serverName, "servername", "XMPP_SERVERNAME", "", "name in the server's certificate; empty means the JID's domain")
	cli.StringVar(fs, &ca, "ca", "XMPP_CA", "", "CA certificates to trust, as PEM text or a file; empty uses the system's (a wasm program has none)")
	cli.StringVar(fs, &cfg.to, "to", "XMPP_TO", "", "JID to send the message to; empty sends none")
	cli.StringVar(fs, &cfg.message, "message", "XMPP_MESSAGE", "Hello from Go inside WebAssembly, through wasmnet!", "message to send")
	fs.IntVar(&cfg.replies, "replies", 1, "messages to wait for before leaving; 0 leaves at once")
	fs.DurationVar(&cfg.timeout, "timeout", 2*time.Minute, "bound on the whole run")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	jid, err := xmpp.ParseJID(cfg.jid)
	if err != nil || jid.Local == "" {
		return cfg, errors.New("-jid must be local@domain")
	}
	if cfg.server == "" {
		cfg.server = net.JoinHostPort(jid.Domain, "5222")
	}
	if cfg.caPEM, err = cli.PEM("ca", ca); err != nil {
		return cfg, err
	}
	return cfg, nil
}
