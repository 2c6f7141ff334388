package services

import (
	"io"
	"net"
	"sync"
)

// PairTokenLen is the length of the token that opens a paired connection.
const PairTokenLen = 16

// Pair starts a server that joins connections in pairs: each client first
// sends a PairTokenLen-byte token, and two connections that sent the same
// token are spliced, each reading what the other writes. A half-close on
// one side reaches the other. Conformance tests use it to hold both ends of
// a stream inside a sandbox that cannot listen.
func Pair(addr string) (*Server, error) {
	type waiter struct {
		c    net.Conn
		done chan struct{}
	}
	var mu sync.Mutex
	waiting := map[string]*waiter{}
	return Serve(addr, func(s *Server, c net.Conn) {
		token := make([]byte, PairTokenLen)
		if _, err := io.ReadFull(c, token); err != nil {
			return
		}
		mu.Lock()
		w, ok := waiting[string(token)]
		if !ok {
			w = &waiter{c: c, done: make(chan struct{})}
			waiting[string(token)] = w
			mu.Unlock()
			select { // the second of the pair does the work
			case <-w.done:
			case <-s.quit:
			}
			return
		}
		delete(waiting, string(token))
		mu.Unlock()
		splice(w.c, c)
		close(w.done)
	})
}

// splice copies both ways until both sides have finished, passing each
// side's EOF on as a half-close.
func splice(a, b net.Conn) {
	var wg sync.WaitGroup
	half := func(dst, src net.Conn) {
		defer wg.Done()
		if _, err := io.Copy(dst, src); err != nil {
			a.Close()
			b.Close()
			return
		}
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
	}
	wg.Add(2)
	go half(a, b)
	go half(b, a)
	wg.Wait()
}
