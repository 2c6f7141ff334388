package bridge

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/internal/wsmsg"
)

// Config configures a Handler. The zero Config is a bridge that accepts
// same-origin WebSockets and refuses every destination.
type Config struct {
	// Policy decides which destinations streams may reach.
	Policy Policy

	// Resolver resolves the host names of CONNECT packets. Nil means
	// net.DefaultResolver.
	Resolver *net.Resolver

	// OriginPatterns lists the origins, besides the bridge's own, whose
	// pages may open a session, as host patterns such as
	// "app.example.com" or "*.example.com" (path.Match syntax).
	// Requests without an Origin header, which browsers always send, are
	// accepted: they come from programs, which can forge any header.
	OriginPatterns []string

	// DialTimeout bounds resolving and connecting. Zero means 10s.
	DialTimeout time.Duration

	// Credit is the number of DATA packets a client may send on a stream
	// ahead of the bridge, announced in CONTINUE. Zero means 32.
	Credit uint32

	// MaxStreams bounds the open streams and listeners of a session. Zero
	// means 1024.
	MaxStreams int

	// NoUDP turns UDP streams off. They are on by default, under the same
	// policy as TCP.
	NoUDP bool

	// Listen lets clients listen through the bridge. Nil turns listening
	// off: every LISTEN is refused.
	Listen *ListenConfig

	// Logger receives the bridge's logs. Nil means slog.Default().
	Logger *slog.Logger
}

// Handler is the bridge as an http.Handler: it upgrades each request to a
// WebSocket and serves one Wisp session on it.
type Handler struct {
	cfg      Config
	policy   *Policy
	resolver *net.Resolver
	log      *slog.Logger

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	endpoints map[string]*listener // by name and port

	nextSession atomic.Uint64
	stats       counters
}

// NewHandler returns a bridge configured by cfg.
func NewHandler(cfg Config) *Handler {
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	if cfg.Credit == 0 {
		cfg.Credit = 32
	}
	if cfg.MaxStreams == 0 {
		cfg.MaxStreams = 1024
	}
	h := &Handler{
		cfg:       cfg,
		policy:    &cfg.Policy,
		resolver:  cfg.Resolver,
		log:       cfg.Logger,
		endpoints: map[string]*listener{},
	}
	if h.resolver == nil {
		h.resolver = net.DefaultResolver
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h
}

// ServeHTTP accepts a WebSocket and serves a Wisp session on it until
// either side ends it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A client that offers any subprotocol speaks Wisp v2, as with
	// wisp-js; one that offers none speaks v1.
	offered := subprotocols(r)
	var chosen []string
	if len(offered) > 0 {
		chosen = []string{offered[0]}
		for _, p := range offered {
			if p == "wisp-v2" {
				chosen = []string{p}
			}
		}
	}
	rw := &wsmsg.ResponseWriter{ResponseWriter: w}
	ws, err := websocket.Accept(rw, r, &websocket.AcceptOptions{
		Subprotocols:    chosen,
		OriginPatterns:  h.cfg.OriginPatterns,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		h.log.Info("websocket refused", "remote", r.RemoteAddr, "origin", r.Header.Get("Origin"), "err", err)
		return
	}
	ws.SetReadLimit(buffer.MaxMessage)

	h.wg.Add(1)
	defer h.wg.Done()
	s := newSession(h, ws, rw.Conn(), len(chosen) > 0, r.RemoteAddr)
	s.run()
}

// Close ends every session at once and waits for them to finish.
func (h *Handler) Close() error {
	h.cancel()
	h.wg.Wait()
	return nil
}

func subprotocols(r *http.Request) []string {
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
