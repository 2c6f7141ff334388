//go:build !js && !wasip1

package bridge

import (
	"net/netip"
	"strings"
	"time"
)

// scope is what one session may do: the bridge's own configuration, or,
// with a token, what the token grants within it.
type scope struct {
	policy     *Policy
	token      *token // nil without one
	udp        bool
	maxStreams int   // 0: no bound
	rate       int64 // bytes per second each way; 0: no bound
}

// scopeFor builds the scope of a session with tok, which may be nil.
func (h *Handler) scopeFor(tok *token) *scope {
	sc := &scope{
		policy:     h.policy,
		udp:        !h.cfg.NoUDP,
		maxStreams: h.cfg.MaxStreams,
		rate:       h.cfg.Rate,
	}
	if tok == nil {
		return sc
	}
	sc.token = tok
	sc.policy = &Policy{
		Allow:       tok.allow,
		Deny:        append(append([]Rule(nil), h.cfg.Policy.Deny...), tok.deny...),
		keepSpecial: !h.cfg.Tokens.OpenSpecial,
	}
	sc.udp = sc.udp && tok.claims.UDP
	sc.maxStreams = narrow(sc.maxStreams, tok.claims.Limits.Streams)
	sc.rate = int64(narrow(int(sc.rate), int(tok.claims.Limits.Rate)))
	return sc
}

// narrow is the lower of two limits where 0 means none.
func narrow(bridge, token int) int {
	if token > 0 && (bridge == 0 || token < bridge) {
		return token
	}
	return bridge
}

// expires is when the session's token expires; zero without one.
func (sc *scope) expires() time.Time {
	if sc.token == nil {
		return time.Time{}
	}
	return sc.token.expires
}

// grantsEndpoint reports whether rules name the endpoint host:port. Only
// rules that name hosts count: "*" means the public internet, not the
// endpoints of other sessions.
func grantsEndpoint(rules []Rule, host string, port uint16) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, r := range rules {
		if (r.Host != "" || r.Suffix != "") && r.matches(host, netip.Addr{}, port) {
			return true
		}
	}
	return false
}
