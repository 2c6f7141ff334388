package main

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
)

// ackSink is the upload target: it reads a big-endian uint64 count, then
// that many bytes, and answers with the count. Unlike a sink that waits for
// EOF, it needs no half-close, which websockify cannot pass on.
func ackSink(addr string) (*server, error) {
	return serve(addr, func(c net.Conn) {
		buf := make([]byte, 64<<10)
		for {
			var n uint64
			if err := binary.Read(c, binary.BigEndian, &n); err != nil {
				return
			}
			if _, err := io.CopyBuffer(io.Discard, io.LimitReader(c, int64(n)), buf); err != nil {
				return
			}
			binary.Write(c, binary.BigEndian, n)
		}
	})
}

// holdSource is the download target: it reads a big-endian uint64 count,
// sends that many bytes, then waits for the client to hang up. Closing
// right after sending races with relays that drop what they still hold
// when their target closes (websockify does).
func holdSource(addr string) (*server, error) {
	return serve(addr, func(c net.Conn) {
		var n uint64
		if err := binary.Read(c, binary.BigEndian, &n); err != nil {
			return
		}
		buf := make([]byte, 64<<10)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		for n > 0 {
			m := min(n, uint64(len(buf)))
			if _, err := c.Write(buf[:m]); err != nil {
				return
			}
			n -= m
		}
		io.Copy(io.Discard, c)
	})
}

type server struct {
	ln net.Listener
	wg sync.WaitGroup
}

func (s *server) Addr() net.Addr { return s.ln.Addr() }

func (s *server) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func serve(addr string, handle func(net.Conn)) (*server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &server{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return s, nil
}
