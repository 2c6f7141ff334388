package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// run logs in, then runs the command or the shell.
func run(ctx context.Context, cfg config) error {
	client, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	if cfg.command != "" {
		return command(client, cfg)
	}
	term, ok := pageTerminal()
	if !ok {
		return errors.New("no -cmd, and no terminal to open a shell in (a shell needs the page's terminal)")
	}
	return shell(client, term)
}

// connect dials through the bridge and hands the conn to x/crypto/ssh.
func connect(ctx context.Context, cfg config) (*ssh.Client, error) {
	auth, err := authMethods(cfg)
	if err != nil {
		return nil, err
	}
	check, err := hostKeyCheck(cfg.hostKeys)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	conn, err := wasmnet.DefaultDialer.DialContext(ctx, "tcp", cfg.server)
	if err != nil {
		return nil, err
	}
	// The handshake takes no context; the deadline bounds it instead.
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	c, chans, reqs, err := ssh.NewClientConn(conn, cfg.server, &ssh.ClientConfig{
		User:            cfg.user,
		Auth:            auth,
		HostKeyCallback: check,
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	fmt.Fprintf(os.Stderr, "ssh: logged in to %s as %s (%s)\n", cfg.server, cfg.user, c.ServerVersion())
	return ssh.NewClient(c, chans, reqs), nil
}

// authMethods offers the key first, then the password, also through
// keyboard-interactive, which some servers use for passwords.
func authMethods(cfg config) ([]ssh.AuthMethod, error) {
	var methods []ssh.AuthMethod
	if cfg.key != "" {
		var signer ssh.Signer
		var err error
		if cfg.passphrase != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(cfg.key), []byte(cfg.passphrase))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(cfg.key))
		}
		if err != nil {
			return nil, fmt.Errorf("-key: %w", err)
		}
		methods = append(methods, ssh.PublicKeys(signer))
	}
	if cfg.password != "" {
		methods = append(methods, ssh.Password(cfg.password),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = cfg.password
				}
				return answers, nil
			}))
	}
	if len(methods) == 0 {
		return nil, errors.New("no -password and no -key: nothing to log in with")
	}
	return methods, nil
}

// hostKeyCheck accepts only the pinned keys. With none pinned it refuses
// every server, and the error names the key to pin.
func hostKeyCheck(pinned string) (ssh.HostKeyCallback, error) {
	var keys [][]byte
	var fingerprints []string
	for _, line := range strings.Split(pinned, "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "SHA256:") {
			fingerprints = append(fingerprints, line)
			continue
		}
		// An authorized_keys line, or a known_hosts one with hosts first.
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			if _, _, key, _, _, err = ssh.ParseKnownHosts([]byte(line)); err != nil {
				return nil, fmt.Errorf("-hostkey: cannot parse %q", line)
			}
		}
		keys = append(keys, key.Marshal())
	}
	return func(_ string, _ net.Addr, key ssh.PublicKey) error {
		for _, k := range keys {
			if bytes.Equal(k, key.Marshal()) {
				return nil
			}
		}
		fp := ssh.FingerprintSHA256(key)
		for _, f := range fingerprints {
			if subtle.ConstantTimeCompare([]byte(f), []byte(fp)) == 1 {
				return nil
			}
		}
		if len(keys)+len(fingerprints) == 0 {
			return fmt.Errorf("no -hostkey given; the server's key is %s %s: pin it with -hostkey if it is the right one", key.Type(), fp)
		}
		return fmt.Errorf("host key mismatch: the server offered %s %s, which is not the pinned key; refusing to log in", key.Type(), fp)
	}, nil
}

// command runs cfg.command with the output on ours, and returns its exit
// status as an *ssh.ExitError.
func command(client *ssh.Client, cfg config) error {
	s, err := client.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	if cfg.pty {
		if err := s.RequestPty("xterm-256color", cfg.rows, cfg.cols, ssh.TerminalModes{ssh.ECHO: 0}); err != nil {
			return err
		}
	}
	s.Stdout, s.Stderr = os.Stdout, os.Stderr
	return s.Run(cfg.command)
}
