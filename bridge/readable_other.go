//go:build !unix && !js && !wasip1

package bridge

import (
	"net"
	"syscall"
)

// waitReadable returns at once where the bridge cannot peek at a socket;
// each idle stream then holds a read buffer.
func waitReadable(syscall.Conn) error { return nil }

// readPooled has no way to wait for data without a buffer here: the
// caller reads as usual.
func readPooled(net.Conn, int) ([]byte, bool, error) { return nil, false, nil }
