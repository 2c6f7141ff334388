//go:build !js && !wasip1

package bridge

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/buffer"
)

// Config configures a Handler. The zero Config is a bridge that accepts
// same-origin WebSockets, refuses every destination, and applies the
// default limits and timeouts below.
//
// For the limits and timeouts, zero means the default given in the
// field's comment and a negative value turns the limit off.
type Config struct {
	// Policy decides which destinations streams may reach.
	Policy Policy

	// Resolver resolves the host names of CONNECT packets. Nil means
	// net.DefaultResolver.
	Resolver *net.Resolver

	// OriginPatterns lists the origins, besides the bridge's own, whose
	// pages may open a session, as host patterns such as
	// "app.example.com" or "*.example.com" (path.Match syntax, matched
	// case-insensitively), or with a scheme, "https://app.example.com".
	// The host includes a port when the origin has one, so
	// "app.example.com" does not match "https://app.example.com:8443".
	// "null" lets in sandboxed frames and file: pages. The bridge's own
	// origin is the one whose host is the request's Host header. Requests
	// without an Origin header, which browsers always send, are accepted:
	// they come from programs, which can forge any header.
	OriginPatterns []string

	// Tokens, if set, makes the bridge check capability tokens. Nil runs
	// the bridge on its policy alone, ignoring any token offered.
	Tokens *TokenConfig

	// TrustedProxies are the reverse proxies whose X-Forwarded-For the
	// bridge believes when it counts sessions per client address. Empty
	// means the address of the TCP peer counts.
	TrustedProxies []netip.Prefix

	// Credit is the number of DATA packets a client may send on a stream
	// ahead of the bridge, announced in CONTINUE. Zero means 32. With
	// packets of up to 64 KiB, it bounds what one stream queues towards
	// its destination.
	Credit uint32

	// NoUDP turns UDP streams off. They are on by default, under the same
	// policy as TCP.
	NoUDP bool

	// Listen lets clients listen through the bridge. Nil turns listening
	// off: every LISTEN is refused.
	Listen *ListenConfig

	// MaxSessions bounds the sessions open at once (10000).
	MaxSessions int
	// MaxSessionsPerIP bounds the sessions of one client address, or of
	// one IPv6 /64 (64).
	MaxSessionsPerIP int
	// MaxSessionsPerToken bounds the sessions open with one token (16).
	MaxSessionsPerToken int
	// MaxStreams bounds the open streams and listeners of a session
	// (1024).
	MaxStreams int

	// StreamBuffer bounds the bytes a stream holds on their way to the
	// client, read from the destination and not yet written to the
	// WebSocket (256 KiB). The stream stops reading its destination
	// until they are written.
	StreamBuffer int
	// SessionBuffer bounds the bytes a session holds in each direction
	// (64 MiB). Towards the client its streams wait; from the client, a
	// DATA that would go beyond it closes its stream with reason 0x49.
	// Wisp's credit lets each stream have Credit packets on their way to
	// the bridge, so a client within its credit reaches the bound only
	// with more than SessionBuffer / (Credit × packet size) busy streams:
	// 64 streams of 32 KiB writes, by default.
	SessionBuffer int
	// MaxBuffered bounds the bytes the whole bridge holds in each
	// direction, as SessionBuffer does for one session (1 GiB).
	MaxBuffered int64
	// Rate bounds the bytes per second a session moves in each
	// direction, with a token bucket. Zero means no bound.
	Rate int64

	// DialTimeout bounds resolving and connecting (10s).
	DialTimeout time.Duration
	// HandshakeTimeout bounds the wait for a Wisp v2 client's first
	// packet (10s). The HTTP server in front bounds the upgrade request
	// itself (cmd/bridge sets http.Server.ReadHeaderTimeout to it).
	HandshakeTimeout time.Duration
	// IdleTimeout is how long a session may go without a sign of life
	// from its client, and how long a session may stay open with no
	// streams (2m). The bridge pings a quiet client halfway through, so
	// a live one always answers in time.
	IdleTimeout time.Duration
	// StreamIdleTimeout is how long a stream may carry no data either
	// way before it is closed with reason 0x47 (30m, beyond the 29
	// minutes of IMAP IDLE).
	StreamIdleTimeout time.Duration

	// Logger receives the bridge's logs. Nil means slog.Default().
	Logger *slog.Logger
}

// TokenConfig turns on capability tokens; see Claims.
type TokenConfig struct {
	// Keys are the public keys whose tokens the bridge accepts.
	Keys []ed25519.PublicKey
	// Optional lets a client without a token in, under the bridge's own
	// policy. By default a token is required.
	Optional bool
	// OpenSpecial lets a token's allow rules open special ranges
	// (loopback, private networks, ...) the way the operator's own rules
	// can: a CIDR inside the range, or a host name. By default they
	// cannot, so a token cannot aim the bridge at its own network.
	OpenSpecial bool
}

// Defaults of the Config fields.
const (
	DefaultMaxSessions         = 10000
	DefaultMaxSessionsPerIP    = 64
	DefaultMaxSessionsPerToken = 16
	DefaultMaxStreams          = 1024
	DefaultStreamBuffer        = 256 << 10
	DefaultSessionBuffer       = 64 << 20
	DefaultMaxBuffered         = 1 << 30
	DefaultDialTimeout         = 10 * time.Second
	DefaultHandshakeTimeout    = 10 * time.Second
	DefaultIdleTimeout         = 2 * time.Minute
	DefaultStreamIdleTimeout   = 30 * time.Minute
)

// Handler is the bridge as an http.Handler: it upgrades each request to a
// WebSocket and serves one Wisp session on it.
type Handler struct {
	cfg      Config
	policy   *Policy
	resolver *net.Resolver
	log      *slog.Logger

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // sessions, and the janitor

	draining atomic.Bool   // Shutdown has begun
	drained  chan struct{} // closed when Shutdown begins

	mu        sync.Mutex
	endpoints map[string]*listener // by name and port
	sessions  map[*session]struct{}
	perIP     map[string]int
	perToken  map[string]int
	admitted  int // sessions counted by admit

	nextSession atomic.Uint64
	stats       counters

	// socketGuard, if set, is asked about every socket the bridge opens
	// to a destination, after the policy allowed it and before it
	// connects. Tests set it so that destinations the policy lets through
	// off loopback are never really sent a packet.
	socketGuard func(network string, addr netip.AddrPort) error
}

// NewHandler returns a bridge configured by cfg. Close or Shutdown stops
// it.
func NewHandler(cfg Config) *Handler {
	cfg.DialTimeout = orDuration(cfg.DialTimeout, DefaultDialTimeout)
	cfg.HandshakeTimeout = orDuration(cfg.HandshakeTimeout, DefaultHandshakeTimeout)
	cfg.IdleTimeout = orDuration(cfg.IdleTimeout, DefaultIdleTimeout)
	cfg.StreamIdleTimeout = orDuration(cfg.StreamIdleTimeout, DefaultStreamIdleTimeout)
	if cfg.Credit == 0 {
		cfg.Credit = 32
	}
	cfg.MaxSessions = orLimit(cfg.MaxSessions, DefaultMaxSessions)
	cfg.MaxSessionsPerIP = orLimit(cfg.MaxSessionsPerIP, DefaultMaxSessionsPerIP)
	cfg.MaxSessionsPerToken = orLimit(cfg.MaxSessionsPerToken, DefaultMaxSessionsPerToken)
	cfg.MaxStreams = orLimit(cfg.MaxStreams, DefaultMaxStreams)
	cfg.StreamBuffer = orLimit(cfg.StreamBuffer, DefaultStreamBuffer)
	cfg.SessionBuffer = orLimit(cfg.SessionBuffer, DefaultSessionBuffer)
	cfg.MaxBuffered = int64(orLimit(int(cfg.MaxBuffered), DefaultMaxBuffered))
	cfg.Rate = max(cfg.Rate, 0)
	h := &Handler{
		cfg:       cfg,
		policy:    &cfg.Policy,
		resolver:  cfg.Resolver,
		log:       cfg.Logger,
		drained:   make(chan struct{}),
		endpoints: map[string]*listener{},
		sessions:  map[*session]struct{}{},
		perIP:     map[string]int{},
		perToken:  map[string]int{},
	}
	if h.resolver == nil {
		h.resolver = net.DefaultResolver
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.janitor()
	}()
	return h
}

func orDuration(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// orLimit is a limit's value: the default for zero, 0 (none) for a
// negative value.
func orLimit(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// ServeHTTP accepts a WebSocket and serves a Wisp session on it until
// either side ends it.
//
// A page of a foreign origin is refused with 403 before the upgrade, and
// every request while the bridge shuts down with 503. Token failures and
// session limits are reported after the upgrade, with a WebSocket close
// status and reason (see CloseTokenInvalid and the codes beside it):
// page JavaScript cannot see the HTTP status of a failed handshake, but it
// sees those.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := h.nextSession.Add(1)
	ip := clientIP(r, h.cfg.TrustedProxies)
	log := h.log.With("session", id, "remote", ip.String())

	if h.draining.Load() {
		h.stats.refused(refusedShutdown)
		log.Info("websocket refused: bridge shutting down")
		w.Header().Set("Retry-After", "5")
		http.Error(w, "wasmnet: bridge shutting down", http.StatusServiceUnavailable)
		return
	}
	if ok, why := originAllowed(r, h.cfg.OriginPatterns); !ok {
		h.stats.refused(refusedOrigin)
		log.Info("websocket refused: origin not allowed", "origin", r.Header.Get("Origin"), "why", why)
		http.Error(w, "wasmnet: origin not allowed", http.StatusForbidden)
		return
	}
	tok, tokenErr := h.authenticate(r)
	if tok != nil {
		log = log.With("token", tok.fingerprint, "sub", tok.claims.Subject)
	}

	// A client that offers any subprotocol speaks Wisp v2, as with
	// wisp-js; one that offers none speaks v1. The token is never the
	// subprotocol selected: it would travel back in the response.
	var chosen []string
	for _, p := range subprotocols(r) {
		if p == "wisp-v2" || chosen == nil {
			chosen = []string{p}
		}
	}
	hw := &hijackWriter{ResponseWriter: w}
	lastSeen := new(atomic.Int64)
	ws, err := websocket.Accept(hw, r, &websocket.AcceptOptions{
		Subprotocols:       chosen,
		InsecureSkipVerify: true, // originAllowed checked it
		CompressionMode:    websocket.CompressionDisabled,
		OnPongReceived: func(context.Context, []byte) {
			lastSeen.Store(time.Now().UnixNano())
		},
	})
	if err != nil {
		log.Info("websocket refused", "err", err)
		return
	}
	ws.SetReadLimit(buffer.MaxMessage)
	wire := &wsWire{ws: ws, conn: hw.conn}

	if tokenErr != nil {
		code, kind := tokenRefusal(tokenErr)
		h.stats.refused(kind)
		log.Info("session refused: "+tokenErr.Error(), "status", int(code))
		wire.close(code, "wasmnet: "+tokenErr.Error())
		return
	}
	adm, hit := h.admit(ip, tok)
	if hit != 0 {
		h.stats.limit(hit)
		log.Info("session refused: "+hit.String()+" limit", "status", int(CloseTooManySessions))
		wire.close(CloseTooManySessions, "wasmnet: too many sessions ("+hit.String()+")")
		return
	}

	h.wg.Add(1)
	defer h.wg.Done()
	s := newSession(h, sessionParams{
		id:       id,
		wire:     wire,
		v2:       len(chosen) > 0,
		log:      log,
		scope:    h.scopeFor(tok),
		lastSeen: lastSeen,
		adm:      adm,
	})
	s.run()
}

// authenticate finds and checks the request's token. Without token
// checking configured it returns nothing; a token is then ignored.
func (h *Handler) authenticate(r *http.Request) (*token, error) {
	if h.cfg.Tokens == nil {
		return nil, nil
	}
	raw := ""
	for _, p := range offered(r) {
		if t, ok := strings.CutPrefix(p, TokenProtocolPrefix); ok {
			raw = t
			break
		}
	}
	if raw == "" {
		raw = r.URL.Query().Get("token")
	}
	if raw == "" {
		if h.cfg.Tokens.Optional {
			return nil, nil
		}
		return nil, ErrTokenMissing
	}
	tok, err := verifyToken(raw, h.cfg.Tokens.Keys, time.Now())
	if err != nil {
		return nil, err
	}
	if !tokenOriginAllowed(r, tok.claims.Origins) {
		return tok, ErrTokenOrigin
	}
	return tok, nil
}

// TokenProtocolPrefix marks the WebSocket subprotocol that carries a
// token: "wasmnet.token." and the token. The wasmnet client offers it
// after "wisp-v2"; a token may also come in the URL as ?token=.
const TokenProtocolPrefix = "wasmnet.token."

// Close ends every session at once and waits for them to finish. Streams
// are reset without a CLOSE; Shutdown ends them gracefully instead.
func (h *Handler) Close() error {
	h.beginDrain()
	h.cancel()
	h.wg.Wait()
	return nil
}

// Health serves the bridge's health: 200 while it accepts sessions, 503
// once it shuts down, so that a load balancer stops sending it clients.
func (h *Handler) Health() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if h.draining.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
}

// offered lists every subprotocol a request offers, in order.
func offered(r *http.Request) []string {
	var out []string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// subprotocols lists the subprotocols a request offers to speak: those
// offered less any token, which is not a protocol and must never be
// selected.
func subprotocols(r *http.Request) []string {
	var out []string
	for _, p := range offered(r) {
		if !strings.HasPrefix(p, TokenProtocolPrefix) {
			out = append(out, p)
		}
	}
	return out
}

// tokenRefusal maps a token error to the close status a client gets.
func tokenRefusal(err error) (websocket.StatusCode, handshakeRefusal) {
	switch {
	case errors.Is(err, ErrTokenMissing):
		return CloseTokenMissing, refusedTokenMissing
	case errors.Is(err, ErrTokenExpired), errors.Is(err, ErrTokenNotYetValid):
		return CloseTokenExpired, refusedTokenExpired
	case errors.Is(err, ErrTokenOrigin):
		return CloseTokenOrigin, refusedTokenOrigin
	}
	return CloseTokenInvalid, refusedTokenInvalid
}
