package services

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// Server is a running TCP server.
type Server struct {
	// Sent counts the bytes the server's handlers have written, for tests
	// that check how far backpressure reached.
	Sent atomic.Int64

	ln   net.Listener
	quit chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	conn map[net.Conn]struct{}
}

// Addr is the address the server listens on.
func (s *Server) Addr() *net.TCPAddr { return s.ln.Addr().(*net.TCPAddr) }

// Close stops the server and closes its connections.
func (s *Server) Close() error {
	err := s.ln.Close()
	close(s.quit)
	s.mu.Lock()
	for c := range s.conn {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// Serve listens on addr and runs handle for each connection, which it
// closes when handle returns. Close closes the connections still open.
func Serve(addr string, handle func(*Server, net.Conn)) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, quit: make(chan struct{}), conn: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conn[c] = struct{}{}
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				handle(s, c)
				s.mu.Lock()
				delete(s.conn, c)
				s.mu.Unlock()
				c.Close()
			}()
		}
	}()
	return s, nil
}

// Echo starts a server that sends back what it reads, and passes on the
// client's half-close. It copies through a buffer of its own rather than
// letting io.Copy splice: a splice between TCP connections goes through a
// pipe, and with thousands of connections at once, as in the load tests,
// the pipes (two descriptors each) outnumber the sockets.
func Echo(addr string) (*Server, error) {
	return Serve(addr, func(_ *Server, c net.Conn) {
		buf := make([]byte, 16<<10)
		// The wrappers hide ReadFrom and WriteTo, so CopyBuffer uses buf.
		io.CopyBuffer(struct{ io.Writer }{c}, struct{ io.Reader }{c}, buf)
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
	})
}
