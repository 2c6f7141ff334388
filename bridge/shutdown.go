//go:build !js && !wasip1

package bridge

import (
	"context"
	"log/slog"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/wisp"
)

// Shutdown drains the bridge. It refuses new sessions (503, and /healthz
// turns 503), closes every listener with CLOSE(0xD2), refuses new streams
// with CLOSE(0xD2), and lets open streams finish. A session whose streams
// have all ended closes its WebSocket with status 1001 and the reason
// "wasmnet: bridge shutting down" at once. When ctx is done, the streams
// still open get CLOSE(0xD2) and their destinations a reset, and their
// sessions close the same way. No stream ends without a CLOSE. Shutdown
// returns once every session has ended, with ctx's error if it had to
// cut streams.
func (h *Handler) Shutdown(ctx context.Context) error {
	if h.beginDrain() {
		h.log.Info("draining", "sessions", h.stats.sessions.Load(), "streams", h.stats.streams.Load())
	}
	for _, s := range h.sessionList() {
		s.drain()
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	var err error
	for h.stats.sessions.Load() > 0 && err == nil {
		select {
		case <-t.C:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		cut := h.sessionList()
		h.log.Info("drain deadline: closing the streams left", "sessions", len(cut), "streams", h.stats.streams.Load())
		for _, s := range cut {
			s.cut()
		}
		// The closing handshakes are bounded by coder/websocket (5s each,
		// in parallel); past them, drop what is left.
		deadline := time.Now().Add(6 * time.Second)
		for h.stats.sessions.Load() > 0 && time.Now().Before(deadline) {
			<-t.C
		}
	}
	h.cancel()
	h.wg.Wait()
	return err
}

// beginDrain stops the bridge accepting sessions. It reports whether this
// call did it.
func (h *Handler) beginDrain() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.draining.Load() {
		return false
	}
	h.draining.Store(true)
	close(h.drained)
	return true
}

// register adds a session to the bridge's list; a session that arrives as
// the bridge begins to drain is drained at once.
func (h *Handler) register(s *session) {
	h.mu.Lock()
	h.sessions[s] = struct{}{}
	draining := h.draining.Load()
	h.mu.Unlock()
	h.stats.sessions.Add(1)
	h.stats.sessionsTotal.Add(1)
	if draining {
		s.drain()
	}
}

// unregister frees the session's place in the limits with its place in
// the list, so that once Stats shows a session gone, a new one may take
// its place.
func (h *Handler) unregister(s *session) {
	h.mu.Lock()
	delete(h.sessions, s)
	h.release(s.adm)
	h.mu.Unlock()
	h.stats.sessions.Add(-1)
}

func (h *Handler) sessionList() []*session {
	h.mu.Lock()
	defer h.mu.Unlock()
	list := make([]*session, 0, len(h.sessions))
	for s := range h.sessions {
		list = append(list, s)
	}
	return list
}

// drain stops the session taking new streams and listeners, and closes
// it once its streams have ended.
func (s *session) drain() {
	if s.draining.Swap(true) {
		return
	}
	for _, ch := range s.channels() {
		if l, ok := ch.(*listener); ok {
			l.end(wisp.ReasonShutdown, false)
		}
	}
	if s.empty() {
		s.finish(shutdownEnd())
	}
}

// cut ends the streams left at the drain deadline, each with a CLOSE.
func (s *session) cut() {
	for _, ch := range s.channels() {
		ch.end(wisp.ReasonShutdown, true)
	}
	s.finish(shutdownEnd())
}

func shutdownEnd() *sessionEnd {
	return &sessionEnd{code: websocket.StatusGoingAway, reason: "wasmnet: bridge shutting down",
		msg: "bridge shutting down", level: slog.LevelInfo}
}
