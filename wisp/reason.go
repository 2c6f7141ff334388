package wisp

import "fmt"

// Reason is the payload of a CLOSE packet.
type Reason uint8

// Close reasons defined by Wisp.
const (
	ReasonUnknown         Reason = 0x01 // unspecified
	ReasonVoluntary       Reason = 0x02 // a normal close by either side
	ReasonNetworkError    Reason = 0x03 // the socket failed, e.g. a reset
	ReasonIncompatible    Reason = 0x04 // incompatible extensions (stream 0 only)
	ReasonInvalid         Reason = 0x41 // the CONNECT was invalid
	ReasonUnreachable     Reason = 0x42 // the host did not resolve or cannot be reached
	ReasonConnectTimeout  Reason = 0x43 // the destination did not answer
	ReasonRefused         Reason = 0x44 // the destination refused the connection
	ReasonTransferTimeout Reason = 0x47 // the stream was idle too long
	ReasonBlocked         Reason = 0x48 // the bridge's policy forbids the destination
	ReasonThrottled       Reason = 0x49 // a limit of the bridge was hit
	ReasonClientError     Reason = 0x81 // the client cannot take more data
)

// Close reasons added by wasmnet. They tell a client exactly which rule of
// the protocol it broke; a plain Wisp client sees them as unknown reasons.
const (
	ReasonCreditExceeded Reason = 0xD0 // DATA sent beyond the credit granted
	ReasonUnknownStream  Reason = 0xD1 // a packet named a stream that is not open
	ReasonShutdown       Reason = 0xD2 // the bridge is shutting down
	ReasonAddrInUse      Reason = 0xD3 // LISTEN: the port or name is taken
	ReasonListenDisabled Reason = 0xD4 // LISTEN: the bridge does not listen for clients, or not this way
	ReasonPortRange      Reason = 0xD5 // LISTEN: the port is outside the bridge's range
	ReasonOutOfScope     Reason = 0xD6 // the session's capability token does not grant it
	ReasonTokenExpired   Reason = 0xD7 // the session's capability token expired
)

var reasonText = map[Reason]string{
	ReasonUnknown:         "unspecified",
	ReasonVoluntary:       "closed",
	ReasonNetworkError:    "network error",
	ReasonIncompatible:    "incompatible extensions",
	ReasonInvalid:         "invalid destination",
	ReasonUnreachable:     "destination unreachable",
	ReasonConnectTimeout:  "connection timed out",
	ReasonRefused:         "connection refused",
	ReasonTransferTimeout: "idle timeout",
	ReasonBlocked:         "destination blocked by bridge policy",
	ReasonThrottled:       "throttled by bridge",
	ReasonClientError:     "client error",
	ReasonCreditExceeded:  "credit exceeded",
	ReasonUnknownStream:   "unknown stream",
	ReasonShutdown:        "bridge shutting down",
	ReasonAddrInUse:       "address already in use",
	ReasonListenDisabled:  "listening is not enabled on the bridge",
	ReasonPortRange:       "port outside the bridge's listening range",
	ReasonOutOfScope:      "outside the scope of the bridge token",
	ReasonTokenExpired:    "bridge token expired",
}

func (r Reason) String() string {
	if s, ok := reasonText[r]; ok {
		return s
	}
	return fmt.Sprintf("close reason 0x%02x", uint8(r))
}
