//go:build !js && !wasip1

package bridge

import "github.com/coder/websocket"

// WebSocket close statuses the bridge ends a session with, besides the
// standard ones (1001 going away, 1002 protocol error, 1003 unsupported
// data, 1008 policy violation, 1009 message too big). Page JavaScript
// reads them in CloseEvent.code and CloseEvent.reason; that is why the
// bridge accepts a handshake it then refuses, instead of failing it with
// an HTTP status that a page cannot see. The codes echo the HTTP status
// of the same meaning.
const (
	CloseTokenMissing    websocket.StatusCode = 4400 // a token is required and none came
	CloseTokenInvalid    websocket.StatusCode = 4401 // malformed, or signed by no key the bridge knows
	CloseTokenOrigin     websocket.StatusCode = 4403 // the token is bound to other origins
	CloseIdle            websocket.StatusCode = 4408 // handshake or idle timeout
	CloseTokenExpired    websocket.StatusCode = 4410 // expired, or not yet valid
	CloseTooManySessions websocket.StatusCode = 4429 // a session limit: per address, per token or in all
)
