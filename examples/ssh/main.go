// Command ssh is an SSH client built on golang.org/x/crypto/ssh, whose
// connection comes from wasmnet: password or key authentication, a pinned
// host key, and either one command (-cmd) or an interactive shell in the
// page's terminal, resized with it.
//
// The same program runs in a web page (GOOS=js, see index.html, where it
// drives an xterm.js terminal), under Node.js (GOOS=js), headless in
// wazero (GOOS=wasip1, package wasm/host) and natively; headless, it runs
// -cmd. x/crypto/ssh is unchanged: it gets the wasmnet conn through
// ssh.NewClientConn, as it would get a *net.TCPConn.
//
// Every flag has an environment equivalent (-h lists them); pass the
// password and the private key that way.
package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"time"

	"github.com/wasmnet/wasmnet/examples/internal/cli"
	"golang.org/x/crypto/ssh"
)

type config struct {
	server     string // host:port
	user       string
	password   string
	key        string // private key, PEM
	passphrase string // of the key
	hostKeys   string // pinned host keys, one a line; or SHA256 fingerprints
	command    string // run this; empty: an interactive shell in the page's terminal
	pty        bool   // give the command a terminal
	cols, rows int    // of that terminal
	timeout    time.Duration
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		cli.Usage("ssh", err)
	}
	if err := run(context.Background(), cfg); err != nil {
		var exit *ssh.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.ExitStatus())
		}
		cli.Fail("ssh", err)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("ssh", flag.ContinueOnError)
	var cfg config
	cli.StringVar(fs, &cfg.server, "server", "SSH_SERVER", "", "SSH server, host:port")
	cli.StringVar(fs, &cfg.user, "user", "SSH_USER", "", "user to log in as")
	cli.StringVar(fs, &cfg.password, "password", "SSH_PASSWORD", "", "password; tried after the key")
	cli.StringVar(fs, &cfg.key, "key", "SSH_KEY", "", "private key, as PEM text or a file")
	cli.StringVar(fs, &cfg.passphrase, "passphrase", "SSH_KEY_PASSPHRASE", "", "passphrase of the private key")
	cli.StringVar(fs, &cfg.hostKeys, "hostkey", "SSH_HOSTKEY", "", `the server's host key, as "ssh-ed25519 AAAA..." or "SHA256:..."; several, one a line; required`)
	cli.StringVar(fs, &cfg.command, "cmd", "SSH_COMMAND", "", "command to run; empty opens a shell in the page's terminal")
	fs.BoolVar(&cfg.pty, "pty", false, "give -cmd a terminal of -cols by -rows")
	fs.IntVar(&cfg.cols, "cols", 80, "terminal width, for -pty")
	fs.IntVar(&cfg.rows, "rows", 24, "terminal height, for -pty")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "bound on connecting and logging in")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.server == "" || cfg.user == "" {
		return cfg, errors.New("-server and -user are required")
	}
	var err error
	if cfg.key, err = cli.PEM("key", cfg.key); err != nil {
		return cfg, err
	}
	return cfg, nil
}
