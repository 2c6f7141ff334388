//go:build js && wasm

package jsapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// The names of the exceptions JavaScript sees. The first four are those
// Direct Sockets uses; SecurityError is ours, for certificates.
const (
	notAllowed    = "NotAllowedError"   // the bridge's policy refused the destination
	networkError  = "NetworkError"      // refused, unreachable, reset, bridge lost, TLS failed
	invalidState  = "InvalidStateError" // the socket is closed, or was handed to startTls
	timeoutError  = "TimeoutError"      // the destination or the handshake took too long
	securityError = "SecurityError"     // the server's certificate is not trusted
)

// namedError carries the exception name JavaScript should see (see
// webapi.NewError).
type namedError struct {
	name string
	err  error
}

func (e *namedError) Error() string   { return e.err.Error() }
func (e *namedError) Unwrap() error   { return e.err }
func (e *namedError) DOMName() string { return e.name }

func named(name string, err error) error { return &namedError{name, err} }

func typeError(msg string) error { return named("TypeError", errors.New("wasmnet: "+msg)) }

// domError names the exception for a socket error, as Direct Sockets would,
// with a message that says what happened in words: the address, and for
// the bridge its URL.
func domError(err error) error {
	var (
		ne     net.Error
		bridge *wasmnet.BridgeError
		op     *net.OpError
	)
	where := "the destination"
	if errors.As(err, &op) && op.Addr != nil {
		where = op.Addr.String()
	}
	switch {
	case errors.Is(err, wasmnet.ErrBlocked):
		return named(notAllowed, fmt.Errorf("wasmnet: the bridge's policy does not allow connections to %s (%w)", where, err))
	case errors.As(err, &bridge) && op != nil && op.Op == "dial":
		return named(networkError, fmt.Errorf("wasmnet: cannot reach the bridge at %s: %w", bridge.URL, bridge.Err))
	case errors.As(err, &bridge):
		return named(networkError, fmt.Errorf("wasmnet: lost the bridge at %s: %w", bridge.URL, bridge.Err))
	case errors.Is(err, syscall.ECONNREFUSED):
		return named(networkError, fmt.Errorf("wasmnet: %s refused the connection (%w)", where, err))
	case errors.Is(err, syscall.EHOSTUNREACH):
		return named(networkError, fmt.Errorf("wasmnet: %s cannot be reached (%w)", where, err))
	case errors.Is(err, net.ErrClosed):
		return named(invalidState, fmt.Errorf("wasmnet: the socket is closed (%w)", err))
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return named(timeoutError, fmt.Errorf("wasmnet: %w", err))
	}
	return named(networkError, fmt.Errorf("wasmnet: %w", err))
}
