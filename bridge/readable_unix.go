//go:build unix && !js && !wasip1

package bridge

import (
	"errors"
	"os"
	"syscall"
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
