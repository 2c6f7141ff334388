//go:build unix

package bridge

import (
	"errors"
	"net"
	"syscall"
)

// waitReadable blocks until conn has data, an EOF or an error to read,
// without a buffer: a bridge with many idle streams then holds no read
// buffers. It peeks with MSG_PEEK rather than trusting the poller alone,
// since data may already be waiting.
func waitReadable(conn *net.TCPConn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var one [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR)
	})
	return err
}
