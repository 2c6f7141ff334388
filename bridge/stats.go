package bridge

import "sync/atomic"

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

type counters struct {
	sessions  atomic.Int64
	streams   atomic.Int64
	listeners atomic.Int64
	buffered  atomic.Int64
}

// Stats reports what the bridge holds now.
func (h *Handler) Stats() Stats {
	return Stats{
		Sessions:  h.stats.sessions.Load(),
		Streams:   h.stats.streams.Load(),
		Listeners: h.stats.listeners.Load(),
		Buffered:  h.stats.buffered.Load(),
	}
}
