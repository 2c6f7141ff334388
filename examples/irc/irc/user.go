package irc

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// sendQueue is how many messages may wait for a user's connection. A
// user that falls this far behind is dropped rather than let it hold up
// the others or fill the server's memory.
const sendQueue = 512

// A user is one connection to a Server, registered or not yet. Its reader
// goroutine (serve) handles its commands; its writer goroutine (writeLoop)
// writes out what is queued for it.
type user struct {
	s     *Server
	conn  *Conn
	host  string        // where it connects from, shown in its source
	out   chan Message  // to writeLoop; closed by quit
	wrote chan struct{} // closed when writeLoop has ended

	// Guarded by s.mu. Only the reader goroutine changes the fields above
	// gone, so it may read them without the lock.
	nick, name, realName string
	pass                 string // PASS, until registration
	registered           bool
	invisible            bool                // user mode +i, which changes nothing here
	channels             map[string]*channel // by folded name
	gone                 bool                // quit: nothing more is queued
	overflowed           bool                // its queue filled, and its connection was closed
}

func newUser(s *Server, nc net.Conn) *user {
	host := nc.RemoteAddr().String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.HasPrefix(host, ":") {
		host = "0" + host // "::1" cannot be a parameter of its own
	}
	return &user{
		s:        s,
		conn:     NewConn(nc),
		host:     cmp.Or(host, "unknown"),
		out:      make(chan Message, sendQueue),
		wrote:    make(chan struct{}),
		channels: map[string]*channel{},
	}
}

// source is how messages from u name it: nick!~user@host, the tilde
// saying that the user name is the client's word (no ident lookup).
func (u *user) source() string { return u.nick + "!~" + u.name + "@" + u.host }

// serve runs u's session and cleans up after it.
func (u *user) serve() {
	s := u.s
	defer s.wg.Done()
	go u.writeLoop()
	reason := u.readLoop()

	s.mu.Lock()
	s.quit(u, reason)
	s.mu.Unlock()
	<-u.wrote
	s.mu.Lock()
	delete(s.conns, u)
	s.mu.Unlock()
}

// readLoop handles u's commands until it quits, its connection fails or
// it stops answering, and returns why it ended, for the QUIT that the
// others see.
func (u *user) readLoop() string {
	s := u.s
	nc := u.conn.NetConn()
	// Registering gets as long as a silent user has to answer a PING.
	deadline := time.Now().Add(s.pingInterval() + s.pingTimeout())
	pinged := false
	for {
		nc.SetReadDeadline(deadline)
		m, err := u.conn.ReadMessage(context.Background())
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			if !u.registered {
				return "Registration timeout"
			}
			if pinged {
				return "Ping timeout: " + s.pingTimeout().String()
			}
			// Silent for a while: is it still there?
			s.mu.Lock()
			s.send(u, Message{Command: "PING", Params: []string{s.name()}})
			s.mu.Unlock()
			pinged = true
			deadline = time.Now().Add(s.pingTimeout())
			continue
		case errors.Is(err, ErrLineTooLong):
			s.mu.Lock()
			s.reply(u, ErrInputTooLong, "Input line was too long")
			s.mu.Unlock()
		case errors.Is(err, ErrMalformed):
			// Ignored, as servers do; the connection is still in step.
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return "Connection closed"
		case err != nil:
			return "Read error"
		default:
			if s.handle(u, m) {
				return ""
			}
		}
		// Any line shows it is alive. An unregistered connection gets no
		// more time for talking, so that it cannot hold a nickname.
		if u.registered {
			pinged = false
			deadline = time.Now().Add(s.pingInterval())
		}
	}
}

// writeLoop writes what is queued for u until quit closes the queue or a
// write fails, then closes the connection, which ends readLoop too.
func (u *user) writeLoop() {
	defer close(u.wrote)
	defer u.conn.Close()
	nc := u.conn.NetConn()
	for m := range u.out {
		nc.SetWriteDeadline(time.Now().Add(u.s.pingTimeout()))
		if err := u.conn.WriteMessage(context.Background(), m); err != nil {
			return
		}
	}
}

// send queues m for u. It never waits: a user whose queue is full is too
// slow, and has its connection closed, which its reader reports. A
// message that cannot be sent as one line is dropped, and logged. It runs
// under s.mu, as every method of Server that takes a *user does.
//
// Every message goes with a colon before its last parameter, as from
// most servers, for clients that look for the text there.
func (s *Server) send(u *user, m Message) {
	if u.gone || u.overflowed {
		return
	}
	m.Colon = true
	if err := m.Check(); err != nil {
		s.logf("not sent to %s: %v", cmp.Or(u.nick, u.host), err)
		return
	}
	select {
	case u.out <- m:
	default:
		u.overflowed = true
		u.conn.Close()
	}
}

// reply sends u a numeric reply: from the server, addressed to u's
// nickname ("*" before it has one), its text cut to fit.
func (s *Server) reply(u *user, code string, params ...string) {
	s.send(u, fit(Message{Source: s.name(), Command: code, Params: append([]string{cmp.Or(u.nick, "*")}, params...)}))
}

// toPeers sends m to every user that shares a channel with u, once each.
func (s *Server) toPeers(u *user, m Message) {
	seen := map[*user]bool{u: true}
	for _, ch := range u.channels {
		for v := range ch.members {
			if !seen[v] {
				seen[v] = true
				s.send(v, m)
			}
		}
	}
}

// quit ends u's session, once: whoever shares a channel with it sees it
// QUIT with reason, u gets ERROR with it, and what is queued for u is
// written out before its connection closes.
func (s *Server) quit(u *user, reason string) {
	if u.gone {
		return
	}
	if u.overflowed {
		reason = "SendQ exceeded"
	}
	// Logged first, so that the log has it by the time anyone sees the
	// user go.
	if u.registered {
		s.logf("%s quit (%s)", u.nick, reason)
	} else {
		s.logf("connection from %s closed (%s)", u.host, reason)
	}
	// When the whole server goes, nobody is told of each other leaving.
	if u.registered && !s.closed {
		s.toPeers(u, fit(Message{Source: u.source(), Command: "QUIT", Params: []string{reason}}))
	}
	for _, ch := range u.channels {
		s.leave(u, ch)
	}
	if u.nick != "" && s.nicks[Fold(u.nick)] == u {
		delete(s.nicks, Fold(u.nick))
	}
	s.send(u, fit(Message{Command: "ERROR", Params: []string{"Closing Link: " + u.host + " (" + reason + ")"}}))
	u.gone = true
	close(u.out)
}
