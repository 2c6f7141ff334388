package irc

import (
	"cmp"
	"context"
	"errors"
	"log"
	"net"
	"sync"
	"time"
)

// A Server is an IRC server: it accepts connections on listeners and
// relays what the users registered on it say, in channels and to each
// other. Set its fields before the first Serve; its methods may be called
// from any goroutine.
//
// Every command is handled under one lock, so all users see what happens
// in the same order. Nothing under the lock waits for the network: what is
// sent to a user is queued, and a goroutine of its own writes it out.
type Server struct {
	// Name is the server's name, the source of its own replies. Empty
	// means "irc.wasmnet".
	Name string
	// Network is the network's name (a word), in the welcome. Empty means
	// "wasmnet".
	Network string
	// Password, if set, must be given with PASS before registering.
	Password string
	// PingInterval is how long a user may be silent before the server
	// sends it a PING, and PingTimeout how long it then has to answer (or
	// say anything) before it is dropped. A connection must register
	// within the two together. PingTimeout also bounds each write. Zero
	// means 2 minutes and 1 minute.
	PingInterval, PingTimeout time.Duration
	// Log, if set, gets a line for each thing that happens: connections,
	// registrations, nickname changes, joins, parts, what is said in
	// channels (not what users say to each other), quits. Each is logged
	// before anyone is told of it.
	Log *log.Logger

	mu        sync.Mutex
	closed    bool
	created   time.Time
	listeners map[*net.Listener]bool // pointers, as a Listener may not be comparable
	conns     map[*user]bool         // every connection until its goroutines end
	nicks     map[string]*user       // by folded nickname, registered or not yet
	channels  map[string]*channel    // by folded name
	wg        sync.WaitGroup         // one per connection
}

// ErrServerClosed is what Serve returns after Shutdown or Close.
var ErrServerClosed = errors.New("irc: Server closed")

// Serve accepts connections on l and serves each in goroutines of its own.
// It returns when l fails, or with ErrServerClosed once Shutdown or Close
// is called, and it closes l either way. Accept errors are not retried.
func (s *Server) Serve(l net.Listener) error {
	defer l.Close()
	if !s.track(&l, true) {
		return ErrServerClosed
	}
	defer s.track(&l, false)
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			return err
		}
		if !s.start(nc) {
			return ErrServerClosed
		}
	}
}

// Shutdown stops the server gracefully: it closes the listeners, tells
// every user the server is going (ERROR), and waits until what was queued
// for each has been written and every connection closed. If ctx ends
// first, it closes what is left as Close does and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	err := s.closeListeners()
	for u := range s.conns {
		s.quit(u, "Server shutting down")
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// Close closes the listeners and every connection at once, and returns
// when the connections' goroutines have ended. Users get no goodbye; see
// Shutdown.
func (s *Server) Close() error {
	s.mu.Lock()
	err := s.closeListeners()
	for u := range s.conns {
		u.conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// closeListeners marks the server closed and closes its listeners. It
// runs under s.mu.
func (s *Server) closeListeners() error {
	s.closed = true
	var err error
	for l := range s.listeners {
		if e := (*l).Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// track adds l to the listeners, or removes it, and reports false when the
// server is already closed.
func (s *Server) track(l *net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.listeners, l)
		return true
	}
	if s.closed {
		return false
	}
	s.init()
	s.listeners[l] = true
	return true
}

// start serves the connection nc, and reports false, closing nc, when the
// server is closed.
func (s *Server) start(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		nc.Close()
		return false
	}
	u := newUser(s, nc)
	s.conns[u] = true
	s.wg.Add(1)
	go u.serve()
	s.logf("connection from %s", nc.RemoteAddr())
	return true
}

func (s *Server) init() {
	if s.conns != nil {
		return
	}
	s.created = time.Now()
	s.listeners = map[*net.Listener]bool{}
	s.conns = map[*user]bool{}
	s.nicks = map[string]*user{}
	s.channels = map[string]*channel{}
}

func (s *Server) name() string    { return cmp.Or(s.Name, "irc.wasmnet") }
func (s *Server) network() string { return cmp.Or(s.Network, "wasmnet") }

func (s *Server) pingInterval() time.Duration { return cmp.Or(s.PingInterval, 2*time.Minute) }
func (s *Server) pingTimeout() time.Duration  { return cmp.Or(s.PingTimeout, time.Minute) }

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}
