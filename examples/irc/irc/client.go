package irc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// Identity is what a client registers as.
type Identity struct {
	Nick     string
	User     string // the user name; empty means Nick
	RealName string // empty means Nick
	Password string // the server password (PASS); empty sends none
}

// A Client is the client side of an IRC session on one connection.
type Client struct {
	conn    *Conn
	nick    string
	pending []Message // read while waiting for something else; Next returns them first
}

// NewClient starts a client on c, which must be connected to the server.
// Call Register next.
func NewClient(c net.Conn) *Client {
	return &Client{conn: NewConn(c)}
}

// Nick is the nickname the server confirmed at registration.
func (c *Client) Nick() string { return c.nick }

// Conn is the client's wire, for commands this package has no method for.
func (c *Client) Conn() *Conn { return c.conn }

// Register sends PASS, NICK and USER and waits for the server's welcome
// (001). A nickname in use or refused, a wrong password, or the server
// closing the link is an *Error.
func (c *Client) Register(ctx context.Context, id Identity) error {
	if id.Password != "" {
		if err := c.send(ctx, "PASS", id.Password); err != nil {
			return err
		}
	}
	if err := c.send(ctx, "NICK", id.Nick); err != nil {
		return err
	}
	if err := c.send(ctx, "USER", cmp.Or(id.User, id.Nick), "0", "*", cmp.Or(id.RealName, id.Nick)); err != nil {
		return err
	}
	return c.await(ctx, func(m Message) (outcome, error) {
		switch m.Command {
		case RplWelcome:
			c.nick = m.Param(0)
			return finished, nil
		case ErrNoNicknameGiven, ErrErroneusNickname, ErrNicknameInUse, ErrNickCollision, ErrPasswdMismatch, ErrYoureBannedCreep:
			return finished, &Error{m}
		}
		return unrelated, nil
	})
}

// Join joins channel and waits until the server has sent its member list,
// so that what Next returns afterwards is the channel's traffic.
func (c *Client) Join(ctx context.Context, channel string) error {
	if err := c.send(ctx, "JOIN", channel); err != nil {
		return err
	}
	joined := false
	return c.await(ctx, func(m Message) (outcome, error) {
		switch {
		case m.Command == "JOIN" && Fold(m.Nick()) == Fold(c.nick) && Fold(m.Param(0)) == Fold(channel):
			joined = true
			return consumed, nil
		case m.Command == RplEndOfNames && Fold(m.Param(1)) == Fold(channel) && joined:
			return finished, nil
		case isError(m.Command) && Fold(m.Param(1)) == Fold(channel):
			return finished, &Error{m}
		}
		return unrelated, nil
	})
}

// Privmsg sends text to target, a channel or a nickname. Each line of
// text goes as a message of its own.
func (c *Client) Privmsg(ctx context.Context, target, text string) error {
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			continue
		}
		if err := c.send(ctx, "PRIVMSG", target, line); err != nil {
			return err
		}
	}
	return nil
}

// Next returns the next message from the server. It answers PING itself,
// and reports ERROR, the server closing the link, as an *Error.
func (c *Client) Next(ctx context.Context) (Message, error) {
	if len(c.pending) > 0 {
		m := c.pending[0]
		c.pending = c.pending[1:]
		return m, nil
	}
	return c.read(ctx)
}

// read is Next without the messages kept by Register and Join.
func (c *Client) read(ctx context.Context) (Message, error) {
	for {
		m, err := c.conn.ReadMessage(ctx)
		if err != nil {
			return m, err
		}
		switch m.Command {
		case "PING":
			if err := c.send(ctx, "PONG", m.Params...); err != nil {
				return m, err
			}
			continue
		case "ERROR":
			return m, &Error{m}
		}
		return m, nil
	}
}

// Quit sends QUIT and waits until the server closes the link, which
// means it has handled everything sent before. Then it closes the
// connection.
func (c *Client) Quit(ctx context.Context, reason string) error {
	defer c.conn.Close()
	if err := c.send(ctx, "QUIT", reason); err != nil {
		return err
	}
	for {
		if _, err := c.Next(ctx); err != nil {
			if e, ok := err.(*Error); ok && e.Command == "ERROR" {
				return nil // the server's goodbye
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return err
		}
	}
}

// Close closes the connection at once; a Next blocked in another
// goroutine returns an error.
func (c *Client) Close() error { return c.conn.Close() }

func (c *Client) send(ctx context.Context, command string, params ...string) error {
	return c.conn.WriteMessage(ctx, Message{Command: command, Params: params})
}

// outcome is what a reply means to a command waiting for its answer.
type outcome int

const (
	unrelated outcome = iota // not part of the answer: kept for Next
	consumed                 // part of the answer, not the end of it
	finished                 // the end of the answer
)

// await reads messages until answer says the command's answer is
// complete, or fails. Unrelated messages are kept for Next.
func (c *Client) await(ctx context.Context, answer func(Message) (outcome, error)) error {
	for {
		m, err := c.read(ctx)
		if err != nil {
			return err
		}
		o, err := answer(m)
		switch {
		case err != nil:
			return err
		case o == finished:
			return nil
		case o == unrelated:
			c.pending = append(c.pending, m)
		}
	}
}

// An Error is a message from the server that ends what was asked: an
// error reply (4xx and 5xx numerics) or ERROR.
type Error struct{ Message }

func (e *Error) Error() string {
	if e.Command == "ERROR" {
		return "irc: server closed the link: " + e.Trailing()
	}
	return fmt.Sprintf("irc: %s %s", e.Command, strings.Join(e.Params[min(1, len(e.Params)):], " "))
}

func isError(command string) bool {
	return len(command) == 3 && (command[0] == '4' || command[0] == '5')
}
