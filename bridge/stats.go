//go:build !js && !wasip1

package bridge

import (
	"sync/atomic"

	"github.com/wasmnet/wasmnet/wisp"
)

// Stats is a snapshot of what a Handler holds.
type Stats struct {
	Sessions  int64 // open sessions
	Streams   int64 // open TCP and UDP streams
	Listeners int64 // open listeners
	// Buffered is the bytes of stream data the bridge holds: received
	// from clients and not yet written to their destinations, or read from
	// destinations and not yet written to clients.
	Buffered int64
}

// handshakeRefusal names why a WebSocket was refused at the handshake.
type handshakeRefusal uint8

const (
	refusedOrigin handshakeRefusal = iota
	refusedShutdown
	refusedTokenMissing
	refusedTokenInvalid
	refusedTokenExpired
	refusedTokenOrigin
	numHandshakeRefusals
)

var handshakeRefusalNames = [numHandshakeRefusals]string{
	"origin", "shutting_down", "token_missing", "token_invalid", "token_expired", "token_origin",
}

// counters are the bridge's statistics, kept with atomics on the hot path
// and read by Stats and by the Prometheus collector.
type counters struct {
	sessions    atomic.Int64
	streams     atomic.Int64
	udp         atomic.Int64 // of streams, those that are UDP
	listeners   atomic.Int64
	bufferedIn  atomic.Int64 // from clients, for destinations
	bufferedOut atomic.Int64 // from destinations, for clients

	sessionsTotal  atomic.Uint64
	streamsTotal   [2]atomic.Uint64 // TCP, UDP
	bytesUp        atomic.Uint64    // client to destination
	bytesDown      atomic.Uint64    // destination to client
	dialErrors     [256]atomic.Uint64
	policyRefused  [4]atomic.Uint64 // by refusal; [allowed] counts out of a token's scope
	limitHits      [numLimits]atomic.Uint64
	refusals       [numHandshakeRefusals]atomic.Uint64
	protocolErrors atomic.Uint64
}

func (c *counters) refused(r handshakeRefusal) { c.refusals[r].Add(1) }
func (c *counters) limit(l limitKind)          { c.limitHits[l].Add(1) }
func (c *counters) dialError(r wisp.Reason)    { c.dialErrors[r].Add(1) }

// outOfScope is the index in policyRefused of destinations a token does
// not grant.
const outOfScope = allowed

// Stats reports what the bridge holds now.
func (h *Handler) Stats() Stats {
	return Stats{
		Sessions:  h.stats.sessions.Load(),
		Streams:   h.stats.streams.Load(),
		Listeners: h.stats.listeners.Load(),
		Buffered:  h.stats.bufferedIn.Load() + h.stats.bufferedOut.Load(),
	}
}
