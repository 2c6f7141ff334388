//go:build !js && !wasip1

package bridge

import "net/netip"

// limitKind names a limit, for the log and the metrics.
type limitKind uint8

const (
	_ limitKind = iota
	limitSessions
	limitSessionsPerIP
	limitSessionsPerToken
	limitStreams
	limitListeners
	limitResolves
	limitSessionBuffer
	limitBridgeBuffer
	limitCredit
	limitMessageSize
	limitNotReading
	limitRate
	limitHandshakeTimeout
	limitIdleSession
	limitIdleStream
	limitLiveness
	numLimits
)

var limitNames = [numLimits]string{
	limitSessions:         "sessions",
	limitSessionsPerIP:    "sessions_per_ip",
	limitSessionsPerToken: "sessions_per_token",
	limitStreams:          "streams",
	limitListeners:        "listeners",
	limitResolves:         "resolves",
	limitSessionBuffer:    "session_buffer",
	limitBridgeBuffer:     "bridge_buffer",
	limitCredit:           "credit",
	limitMessageSize:      "message_size",
	limitNotReading:       "not_reading",
	limitRate:             "rate",
	limitHandshakeTimeout: "handshake_timeout",
	limitIdleSession:      "idle_session",
	limitIdleStream:       "idle_stream",
	limitLiveness:         "liveness",
}

func (l limitKind) String() string { return limitNames[l] }

// admission is a session counted against the session limits.
type admission struct {
	ip, token string
}

// admit counts a new session, or reports the limit it would break.
func (h *Handler) admit(ip netip.Addr, tok *token) (admission, limitKind) {
	a := admission{ip: ipKey(ip)}
	perToken := h.cfg.MaxSessionsPerToken
	if tok != nil {
		a.token = tok.fingerprint
		if n := tok.claims.Limits.Sessions; n > 0 && (perToken == 0 || n < perToken) {
			perToken = n
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.cfg.MaxSessions > 0 && h.admitted >= h.cfg.MaxSessions:
		return admission{}, limitSessions
	case h.cfg.MaxSessionsPerIP > 0 && h.perIP[a.ip] >= h.cfg.MaxSessionsPerIP:
		return admission{}, limitSessionsPerIP
	case a.token != "" && perToken > 0 && h.perToken[a.token] >= perToken:
		return admission{}, limitSessionsPerToken
	}
	h.admitted++
	h.perIP[a.ip]++
	if a.token != "" {
		h.perToken[a.token]++
	}
	return a, 0
}

// release uncounts a session that has ended. The caller holds h.mu.
func (h *Handler) release(a admission) {
	h.admitted--
	if h.perIP[a.ip]--; h.perIP[a.ip] <= 0 {
		delete(h.perIP, a.ip)
	}
	if a.token != "" {
		if h.perToken[a.token]--; h.perToken[a.token] <= 0 {
			delete(h.perToken, a.token)
		}
	}
}
