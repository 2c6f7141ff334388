//go:build unix && !js && !wasip1

package bridge

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/wasmnet/wasmnet/internal/buffer"
)

// waitReadable blocks until a TCP or UDP socket has data, an EOF or an error to read,
// without a buffer: a bridge with many idle streams then holds no read
// buffers. It peeks with MSG_PEEK rather than trusting the poller alone,
// since data may already be waiting.
func waitReadable(conn syscall.Conn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var one [1]byte
	var peekErr error
	err = rc.Read(func(fd uintptr) bool {
		_, _, peekErr = syscall.Recvfrom(int(fd), one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return !errors.Is(peekErr, syscall.EAGAIN) && !errors.Is(peekErr, syscall.EINTR)
	})
	if err == nil && peekErr != nil {
		// The peek took the socket's pending error (a reset, say): the
		// kernel reports it once, and the next read would see only EOF.
		err = os.NewSyscallError("recvfrom", peekErr)
	}
	return err
}

// readPooled reads what conn has into a buffer from buffer.Get(size),
// which it takes only once the socket has data: a reader blocked on an
// idle socket holds no buffer. It returns the bytes read (at least one)
// or an error, io.EOF at the end; ok is false for a connection without a
// file descriptor to wait on, such as TLS, which the caller reads as
// usual. The connection's read deadline applies.
func readPooled(conn net.Conn, size int) (buf []byte, ok bool, err error) {
	sc, isSys := conn.(syscall.Conn)
	if !isSys {
		return nil, false, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, false, nil
	}
	var n int
	var readErr error
	err = rc.Read(func(fd uintptr) bool {
		if buf == nil {
			buf = buffer.Get(size)
		}
		n, readErr = syscall.Read(int(fd), buf[:size])
		if errors.Is(readErr, syscall.EAGAIN) || errors.Is(readErr, syscall.EINTR) {
			buffer.Put(buf) // nothing yet: wait without it
			buf = nil
			return false
		}
		return true
	})
	switch {
	case err == nil && readErr != nil:
		err = os.NewSyscallError("read", readErr)
	case err == nil && n <= 0:
		err = io.EOF
	}
	if err != nil {
		if buf != nil {
			buffer.Put(buf)
		}
		return nil, true, err
	}
	return buf[:n], true, nil
}
