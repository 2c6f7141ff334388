//go:build !unix && !js && !wasip1

package bridge

import "syscall"

// waitReadable returns at once where the bridge cannot peek at a socket;
// each idle stream then holds a read buffer.
func waitReadable(syscall.Conn) error { return nil }
