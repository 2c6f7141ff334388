// Command smtp sends one mail with the standard library's net/smtp over a
// wasmnet connection: STARTTLS, with TLS running inside this program so the
// bridge relays only ciphertext, then AUTH PLAIN, MAIL, RCPT and DATA.
//
// The same program runs in a web page (GOOS=js, see index.html), under
// Node.js (GOOS=js), headless in wazero (GOOS=wasip1, package wasm/host),
// and natively. Only the Dial differs from a program for package net; the
// SMTP code is net/smtp, unchanged.
//
// Every flag can also be given in the environment (SMTP_SERVER and so on,
// listed by -h); the password and the CA are best passed that way.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/wasmnet/wasmnet/examples/internal/cli"
)

// config is what one run sends, and where.
type config struct {
	server     string // host:port; empty: the MX of the first recipient's domain
	port       string // the port on the MX
	serverName string // the name in the server's certificate, and for HELO checks
	helo       string
	caPEM      string // trusted CA certificates, PEM; empty: the system's
	user       string // AUTH PLAIN user; empty: no AUTH
	password   string
	from       string
	to         []string
	subject    string
	body       string
	date       string // Date header; empty: now
	messageID  string // Message-ID header; empty: a random one
	timeout    time.Duration
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		cli.Usage("smtp", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		cli.Fail("smtp", err)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("smtp", flag.ContinueOnError)
	var cfg config
	var to, ca string
	cli.StringVar(fs, &cfg.server, "server", "SMTP_SERVER", "", "SMTP server, host:port; empty looks up the MX of the first recipient's domain")
	cli.StringVar(fs, &cfg.port, "port", "SMTP_PORT", "", "port on the MX host, when there is no -server (default 25)")
	cli.StringVar(fs, &cfg.serverName, "servername", "SMTP_SERVERNAME", "", "name in the server's certificate; empty means the host of -server")
	cli.StringVar(fs, &cfg.helo, "helo", "SMTP_HELO", "", "name to greet the server with (default localhost)")
	cli.StringVar(fs, &ca, "ca", "SMTP_CA", "", "CA certificates to trust, as PEM text or a file; empty uses the system's (a wasm program has none)")
	cli.StringVar(fs, &cfg.user, "user", "SMTP_USER", "", "user for AUTH PLAIN; empty sends no AUTH")
	cli.StringVar(fs, &cfg.password, "password", "SMTP_PASSWORD", "", "password for AUTH PLAIN")
	cli.StringVar(fs, &cfg.from, "from", "SMTP_FROM", "", "envelope and header sender")
	cli.StringVar(fs, &to, "to", "SMTP_TO", "", "recipients, comma-separated")
	cli.StringVar(fs, &cfg.subject, "subject", "SMTP_SUBJECT", "", "subject")
	cli.StringVar(fs, &cfg.body, "body", "SMTP_BODY", "", "body text; line ends become CRLF")
	cli.StringVar(fs, &cfg.date, "date", "SMTP_DATE", "", "Date header (RFC 5322); empty means now")
	cli.StringVar(fs, &cfg.messageID, "message-id", "SMTP_MESSAGE_ID", "", "Message-ID header, with its angle brackets; empty makes one up")
	fs.DurationVar(&cfg.timeout, "timeout", time.Minute, "bound on the whole run")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	for _, addr := range strings.Split(to, ",") {
		if addr = strings.TrimSpace(addr); addr != "" {
			cfg.to = append(cfg.to, addr)
		}
	}
	if cfg.from == "" || len(cfg.to) == 0 {
		return cfg, fmt.Errorf("-from and -to are required")
	}
	var err error
	if cfg.caPEM, err = cli.PEM("ca", ca); err != nil {
		return cfg, err
	}
	return cfg, nil
}
