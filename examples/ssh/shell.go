package main

import (
	"io"

	"golang.org/x/crypto/ssh"
)

// terminal is where an interactive shell shows: the page's xterm.js.
type terminal interface {
	io.Reader // keystrokes
	io.Writer // what the shell prints
	// Size is the current size; Resized signals each change.
	Size() (cols, rows int)
	Resized() <-chan struct{}
	// Close lets go of the terminal.
	Close() error
}

// shell runs a login shell on a pseudo-terminal the size of term, and
// follows term's size until the shell ends.
func shell(client *ssh.Client, term terminal) error {
	defer term.Close()
	s, err := client.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	cols, rows := term.Size()
	modes := ssh.TerminalModes{ssh.ECHO: 1, ssh.TTY_OP_ISPEED: 38400, ssh.TTY_OP_OSPEED: 38400}
	if err := s.RequestPty("xterm-256color", rows, cols, modes); err != nil {
		return err
	}
	s.Stdin, s.Stdout, s.Stderr = term, term, term
	if err := s.Shell(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	for {
		select {
		case err := <-done:
			return err
		case <-term.Resized():
			cols, rows := term.Size()
			if err := s.WindowChange(rows, cols); err != nil {
				return err
			}
		}
	}
}
