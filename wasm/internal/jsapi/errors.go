//go:build js && wasm

package jsapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
	"github.com/wasmnet/wasmnet/wisp"
)

// The names of the exceptions JavaScript sees. The first four are those
// Direct Sockets uses; SecurityError is ours, for certificates.
const (
	notAllowed    = "NotAllowedError"   // the bridge's policy refused the destination, or the operator a listen
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
		closed *wasmnet.CloseError
	)
	where := "the destination"
	if errors.As(err, &op) && op.Addr != nil {
		where = op.Addr.String()
	}
	what := "connections"
	if op != nil && strings.HasPrefix(op.Net, "udp") {
		what = "datagrams"
	}
	if op != nil && op.Op == "listen" && errors.As(err, &closed) {
		return listenError(err, closed.Reason, where)
	}
	switch {
	case errors.Is(err, wasmnet.ErrBlocked):
		return named(notAllowed, fmt.Errorf("wasmnet: the bridge's policy does not allow %s to %s (%w)", what, where, err))
	case errors.As(err, &closed) && closed.Reason == wisp.ReasonOutOfScope:
		return named(notAllowed, fmt.Errorf("wasmnet: the bridge's token does not allow %s to %s (%w)", what, where, err))
	case errors.As(err, &bridge) && op != nil && (op.Op == "dial" || op.Op == "listen"):
		return named(networkError, fmt.Errorf("wasmnet: cannot reach the bridge at %s: %w", bridge.URL, bridge.Err))
	case errors.As(err, &bridge):
		return named(networkError, fmt.Errorf("wasmnet: lost the bridge at %s: %w", bridge.URL, bridge.Err))
	case errors.Is(err, syscall.ECONNREFUSED):
		return named(networkError, fmt.Errorf("wasmnet: %s refused the connection (%w)", where, err))
	case errors.Is(err, syscall.EHOSTUNREACH):
		return named(networkError, fmt.Errorf("wasmnet: %s cannot be reached (%w)", where, err))
	case errors.Is(err, syscall.EMSGSIZE):
		return named(networkError, fmt.Errorf("wasmnet: a UDP datagram carries at most 65507 bytes (%w)", err))
	case errors.Is(err, net.ErrClosed):
		return named(invalidState, fmt.Errorf("wasmnet: the socket is closed (%w)", err))
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return named(timeoutError, fmt.Errorf("wasmnet: %w", err))
	}
	return named(networkError, fmt.Errorf("wasmnet: %w", err))
}

// listenError names the exception for a listen the bridge refused. What
// the operator does not allow is a NotAllowedError, as Direct Sockets
// gives for a port it does not allow; a port in use is a NetworkError, as
// a failed bind is.
func listenError(err error, r wisp.Reason, where string) error {
	switch r {
	case wisp.ReasonPortRange:
		return named(notAllowed, fmt.Errorf("wasmnet: the bridge does not let clients listen on %s: the port is outside the range its operator opened (%w)", where, err))
	case wisp.ReasonListenDisabled:
		return named(notAllowed, fmt.Errorf("wasmnet: the bridge does not let clients listen on %s: its operator has not turned this kind of listening on (%w)", where, err))
	case wisp.ReasonOutOfScope:
		return named(notAllowed, fmt.Errorf("wasmnet: the bridge's token does not allow listening on %s (%w)", where, err))
	case wisp.ReasonAddrInUse:
		return named(networkError, fmt.Errorf("wasmnet: %s is already taken on the bridge (%w)", where, err))
	}
	return named(networkError, fmt.Errorf("wasmnet: the bridge refused to listen on %s (%w)", where, err))
}
