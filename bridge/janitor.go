//go:build !js && !wasip1

package bridge

import (
	"context"
	"log/slog"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/wisp"
)

// janitor enforces the timeouts of every session from one goroutine, so
// that an idle session or stream costs no timer of its own.
func (h *Handler) janitor() {
	t := time.NewTicker(h.tick())
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case now := <-t.C:
			for _, s := range h.sessionList() {
				s.check(now)
			}
		}
	}
}

// tick is how often the janitor looks: a quarter of the shortest timeout,
// between 10ms and 1s.
func (h *Handler) tick() time.Duration {
	d := time.Second
	for _, t := range []time.Duration{h.cfg.HandshakeTimeout, h.cfg.IdleTimeout, h.cfg.StreamIdleTimeout} {
		if t > 0 {
			d = min(d, t/4)
		}
	}
	return max(d, 10*time.Millisecond)
}

// check ends what has timed out in the session.
func (s *session) check(now time.Time) {
	if s.ending.Load() != nil {
		return
	}
	cfg := &s.h.cfg
	if d := cfg.HandshakeTimeout; d > 0 && s.v2 && !s.seen.Load() && now.Sub(s.start) > d {
		s.finish(&sessionEnd{code: CloseIdle, reason: "wasmnet: Wisp handshake timeout",
			msg: "handshake timeout", level: slog.LevelInfo, limit: limitHandshakeTimeout})
		return
	}
	if exp := s.scope.expires(); !exp.IsZero() && !now.Before(exp) {
		s.expire()
		return
	}
	if d := cfg.IdleTimeout; d > 0 {
		quiet := now.Sub(time.Unix(0, s.lastSeen.Load()))
		if quiet > d {
			// No frame, not even a pong: the client is gone without a
			// close, and no close frame would reach it.
			s.endNow(&sessionEnd{msg: "client vanished: silent for " + quiet.Round(time.Millisecond).String(),
				level: slog.LevelInfo, limit: limitLiveness})
			return
		}
		if quiet > d/2 && !s.pinging.Swap(true) {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer s.pinging.Store(false)
				ctx, cancel := context.WithTimeout(s.ctx, d-quiet)
				defer cancel()
				s.w.ping(ctx)
			}()
		}
		if since := s.writeSince.Load(); since != 0 && now.Sub(time.Unix(0, since)) > d {
			s.endNow(&sessionEnd{code: websocket.StatusPolicyViolation, reason: "wisp: client is not reading",
				msg: "client is not reading", level: slog.LevelWarn, limit: limitNotReading})
			return
		}
		if s.empty() && now.Sub(time.Unix(0, s.lastPacket.Load())) > d {
			s.finish(&sessionEnd{code: CloseIdle, reason: "wasmnet: idle session",
				msg: "idle, with no streams", level: slog.LevelInfo, limit: limitIdleSession})
			return
		}
	}
	if d := cfg.StreamIdleTimeout; d > 0 {
		for _, ch := range s.channels() {
			st, ok := ch.(interface{ idleSince() int64 })
			if ok && now.Sub(time.Unix(0, st.idleSince())) > d {
				s.h.stats.limit(limitIdleStream)
				s.log.Info("stream closed: idle", "timeout", d)
				ch.end(wisp.ReasonTransferTimeout, true)
			}
		}
	}
}

// expire ends a session whose token has expired: each stream gets
// CLOSE(0xD7), then the WebSocket closes with CloseTokenExpired.
func (s *session) expire() {
	for _, ch := range s.channels() {
		ch.end(wisp.ReasonTokenExpired, true)
	}
	s.finish(&sessionEnd{code: CloseTokenExpired, reason: "wasmnet: " + ErrTokenExpired.Error(),
		msg: "token expired", level: slog.LevelInfo})
}

// empty reports whether the session has no streams or listeners open,
// and no lookup in progress.
func (s *session) empty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.streams) == 0 && s.resolves == 0
}
