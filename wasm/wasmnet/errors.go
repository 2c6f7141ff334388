package wasmnet

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/wasmnet/wasmnet/wisp"
)

// ErrBlocked matches, with errors.Is, the error of a dial that the bridge's
// destination policy refused.
var ErrBlocked = errors.New("destination blocked by bridge policy")

// CloseError is the cause inside a *net.OpError when the bridge closed a
// stream with a Wisp close reason. It matches the system errors a native
// socket would give, so errors.Is(err, syscall.ECONNREFUSED) works as it
// does with package net.
type CloseError struct {
	Reason wisp.Reason
}

func (e *CloseError) Error() string { return e.Reason.String() }

// Timeout reports whether the bridge gave up waiting: a connect or idle
// timeout.
func (e *CloseError) Timeout() bool {
	return e.Reason == wisp.ReasonConnectTimeout || e.Reason == wisp.ReasonTransferTimeout
}

// Temporary reports whether trying again later may succeed.
func (e *CloseError) Temporary() bool {
	return e.Timeout() || e.Reason == wisp.ReasonThrottled || e.Reason == wisp.ReasonShutdown
}

// Is maps close reasons to the errors of package syscall and to ErrBlocked.
func (e *CloseError) Is(target error) bool {
	switch e.Reason {
	case wisp.ReasonRefused:
		return target == syscall.ECONNREFUSED
	case wisp.ReasonUnreachable:
		return target == syscall.EHOSTUNREACH
	case wisp.ReasonConnectTimeout:
		return target == syscall.ETIMEDOUT
	case wisp.ReasonNetworkError:
		return target == syscall.ECONNRESET
	case wisp.ReasonBlocked:
		return target == ErrBlocked
	case wisp.ReasonAddrInUse:
		return target == syscall.EADDRINUSE
	}
	return false
}

// BridgeError reports that the session with the bridge could not be opened
// or was lost. Every stream of a lost session fails with it, and the next
// dial opens a new session.
type BridgeError struct {
	URL string
	Err error
}

func (e *BridgeError) Error() string {
	return fmt.Sprintf("wasmnet: bridge %s: %v", e.URL, e.Err)
}

func (e *BridgeError) Unwrap() error { return e.Err }

var (
	errTimeout       = os.ErrDeadlineExceeded
	errNoHalfClose   = errors.New("bridge does not support half-close")
	errWindowOverrun = errors.New("bridge sent beyond the receive window")
)
