package load

import (
	"net"
	"sync"
)

// EchoServer sends back what it reads, and passes on the client's
// half-close. Unlike services.Echo it copies through a buffer of its own:
// io.Copy between TCP connections splices through a pipe, and with
// thousands of connections at once the pipes (two descriptors each)
// outnumber the sockets.
type EchoServer struct {
	ln net.Listener
	wg sync.WaitGroup
}

// Echo starts an echo server on addr.
func Echo(addr string) (*EchoServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &EchoServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				buf := make([]byte, chunk)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						c.(*net.TCPConn).CloseWrite()
						return
					}
				}
			}()
		}
	}()
	return s, nil
}

// Addr is the address the server listens on.
func (s *EchoServer) Addr() string { return s.ln.Addr().String() }

// Close stops accepting; connections end when their clients close.
func (s *EchoServer) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}
