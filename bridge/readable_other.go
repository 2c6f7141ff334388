//go:build !unix

package bridge

import "net"

// waitReadable returns at once where the bridge cannot peek at a socket;
// each idle stream then holds a read buffer.
func waitReadable(*net.TCPConn) error { return nil }
