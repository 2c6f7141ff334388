package services

import (
	"bufio"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is a message the sink received.
type Mail struct {
	From string
	To   []string
	Data []byte
	TLS  string // the TLS version the message came over, or ""
	Auth string // the user the client authenticated as, or ""
}

// MailSink is an SMTP server that keeps every message it receives. It
// offers STARTTLS and, with RequireTLS, refuses mail sent in the clear.
type MailSink struct {
	srv *smtp.Server
	ln  net.Listener

	mu      sync.Mutex
	users   map[string]string // user -> password; nil offers no AUTH
	mail    []Mail
	arrived chan struct{} // closed and replaced on every arrival
}

// SMTP starts a mail sink on addr. tlsConfig enables STARTTLS.
func SMTP(addr string, tlsConfig *tls.Config, requireTLS bool) (*MailSink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &MailSink{ln: ln, arrived: make(chan struct{})}
	m.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &sinkSession{sink: m, conn: c, requireTLS: requireTLS}, nil
	}))
	m.srv.Domain = "mail.wasmnet.test"
	m.srv.TLSConfig = tlsConfig
	m.srv.ReadTimeout = time.Minute
	m.srv.WriteTimeout = time.Minute
	m.srv.MaxMessageBytes = 4 << 20
	go m.srv.Serve(ln)
	return m, nil
}

// Addr is the address the sink listens on.
func (m *MailSink) Addr() *net.TCPAddr { return m.ln.Addr().(*net.TCPAddr) }

// Close stops the sink.
func (m *MailSink) Close() error { return m.srv.Close() }

// RequireAuth makes the sink offer AUTH PLAIN, only over TLS, and refuse
// mail from clients that have not authenticated as user with password. It
// may be called more than once to add users.
func (m *MailSink) RequireAuth(user, password string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.users == nil {
		m.users = map[string]string{}
	}
	m.users[user] = password
}

func (m *MailSink) authRequired() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.users != nil
}

func (m *MailSink) checkPassword(user, password string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	want, known := m.users[user]
	return known && subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1
}

// Mail returns the messages received so far.
func (m *MailSink) Mail() []Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Mail(nil), m.mail...)
}

// Find waits until a message whose data contains marker arrives.
func (m *MailSink) Find(ctx context.Context, marker string) (Mail, error) {
	for {
		m.mu.Lock()
		for _, mail := range m.mail {
			if strings.Contains(string(mail.Data), marker) {
				m.mu.Unlock()
				return mail, nil
			}
		}
		arrived := m.arrived
		m.mu.Unlock()
		select {
		case <-arrived:
		case <-ctx.Done():
			return Mail{}, fmt.Errorf("no message containing %q arrived: %w", marker, ctx.Err())
		}
	}
}

// Mailbox starts a server through which a client that cannot see the sink
// (a test inside wasm, the demo page) fetches a message: it sends a marker
// and a newline, and gets back "tls=<version>\n" and the raw message, or
// "none\n" if no such message arrives within a few seconds.
func (m *MailSink) Mailbox(addr string) (*Server, error) {
	return Serve(addr, func(_ *Server, c net.Conn) {
		marker, err := bufio.NewReader(io.LimitReader(c, 1024)).ReadString('\n')
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		mail, err := m.Find(ctx, strings.TrimSpace(marker))
		if err != nil {
			io.WriteString(c, "none\n")
			return
		}
		fmt.Fprintf(c, "tls=%s\n", mail.TLS)
		c.Write(mail.Data)
	})
}

type sinkSession struct {
	sink       *MailSink
	conn       *smtp.Conn
	requireTLS bool
	user       string // authenticated as
	mail       Mail
}

var _ smtp.AuthSession = (*sinkSession)(nil)

// AuthMechanisms offers PLAIN once RequireAuth was called; go-smtp
// advertises AUTH only on TLS connections.
func (s *sinkSession) AuthMechanisms() []string {
	if !s.sink.authRequired() {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *sinkSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, password string) error {
		if !s.sink.checkPassword(user, password) || (identity != "" && identity != user) {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	state, ok := s.conn.TLSConnectionState()
	if s.requireTLS && !ok {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
	}
	if s.sink.authRequired() && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.mail = Mail{From: from, Auth: s.user}
	if ok {
		s.mail.TLS = tls.VersionName(state.Version)
	}
	return nil
}

func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.mail.To = append(s.mail.To, to)
	return nil
}

func (s *sinkSession) Data(r io.Reader) error {
	if s.mail.From == "" {
		return errors.New("no sender")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mail.Data = data
	s.sink.mu.Lock()
	s.sink.mail = append(s.sink.mail, s.mail)
	close(s.sink.arrived)
	s.sink.arrived = make(chan struct{})
	s.sink.mu.Unlock()
	return nil
}

func (s *sinkSession) Reset()        { s.mail = Mail{} }
func (s *sinkSession) Logout() error { return nil }
