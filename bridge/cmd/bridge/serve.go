//go:build !js && !wasip1

package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/wasmnet/wasmnet/bridge"
	"github.com/wasmnet/wasmnet/internal/webserve"
)

// options are the server's settings, from flags and the environment.
type options struct {
	addr, path, static                 string
	allow, deny, policyFile, origins   string
	listenPorts, listenAddr            string
	endpoints, noUDP                   bool
	tokenKeys                          string
	tokenOptional, tokenSpecial        bool
	trustedProxies                     string
	maxSessions, maxPerIP, maxPerToken int
	maxStreams, credit                 int
	streamBuffer, sessionBuffer        size
	maxBuffered, rate                  size
	dialTimeout, handshakeTimeout      time.Duration
	idleTimeout, streamIdleTimeout     time.Duration
	drainTimeout                       time.Duration
	tlsCert, tlsKey                    string
	acmeDomains, acmeCache, acmeEmail  string
	acmeHTTPAddr, acmeDirectory        string
	metricsAddr, logLevel, logFormat   string
}

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("bridge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := newFlags(fs)
	o := &options{}
	fs.StringVar(&o.addr, "addr", f.env("WASMNET_ADDR", "localhost:8080"), "listen `address` ($WASMNET_ADDR)")
	fs.StringVar(&o.path, "path", f.env("WASMNET_PATH", "/wisp/"), "URL `path` of the Wisp endpoint ($WASMNET_PATH)")
	fs.StringVar(&o.static, "static", f.env("WASMNET_STATIC", ""), "serve the files of `dir` at / beside the bridge ($WASMNET_STATIC)")

	fs.StringVar(&o.allow, "allow", f.env("WASMNET_ALLOW", ""), "comma-separated allow `rules` HOST[:PORTS], e.g. '*:443,10.1.2.3:5432' ($WASMNET_ALLOW)")
	fs.StringVar(&o.deny, "deny", f.env("WASMNET_DENY", ""), "comma-separated deny `rules`, which win over allow rules ($WASMNET_DENY)")
	fs.StringVar(&o.policyFile, "policy", f.env("WASMNET_POLICY", ""), "policy `file`: one 'allow RULE' or 'deny RULE' per line, added to -allow and -deny ($WASMNET_POLICY)")
	fs.StringVar(&o.origins, "origins", f.env("WASMNET_ORIGINS", ""), "comma-separated `origins` allowed besides the bridge's own, e.g. 'app.example.com' ($WASMNET_ORIGINS)")
	fs.StringVar(&o.listenPorts, "listen-ports", f.env("WASMNET_LISTEN_PORTS", ""), "let clients listen on public ports in this `range`, such as 20000-20099 ($WASMNET_LISTEN_PORTS)")
	fs.StringVar(&o.listenAddr, "listen-addr", f.env("WASMNET_LISTEN_ADDR", ""), "`address` public ports are bound on; empty means every address ($WASMNET_LISTEN_ADDR)")
	f.boolVar(&o.endpoints, "endpoints", "WASMNET_ENDPOINTS", "let clients register named endpoints under .wasmnet.internal")
	f.boolVar(&o.noUDP, "no-udp", "WASMNET_NO_UDP", "refuse UDP streams")

	fs.StringVar(&o.tokenKeys, "token-keys", f.env("WASMNET_TOKEN_KEYS", ""), "comma-separated PEM `files` of Ed25519 public keys; sessions then need a token signed by one ($WASMNET_TOKEN_KEYS)")
	f.boolVar(&o.tokenOptional, "token-optional", "WASMNET_TOKEN_OPTIONAL", "with -token-keys, let clients without a token in, under the bridge's own policy")
	f.boolVar(&o.tokenSpecial, "token-special", "WASMNET_TOKEN_SPECIAL", "let tokens' allow rules open special ranges (loopback, private networks) as the operator's rules can")
	fs.StringVar(&o.trustedProxies, "trusted-proxies", f.env("WASMNET_TRUSTED_PROXIES", ""), "comma-separated `CIDRs` of reverse proxies whose X-Forwarded-For is believed ($WASMNET_TRUSTED_PROXIES)")

	f.intVar(&o.maxSessions, "max-sessions", "WASMNET_MAX_SESSIONS", bridge.DefaultMaxSessions, "sessions at once; -1 for no limit")
	f.intVar(&o.maxPerIP, "max-sessions-per-ip", "WASMNET_MAX_SESSIONS_PER_IP", bridge.DefaultMaxSessionsPerIP, "sessions per client address (per /64 for IPv6); -1 for no limit")
	f.intVar(&o.maxPerToken, "max-sessions-per-token", "WASMNET_MAX_SESSIONS_PER_TOKEN", bridge.DefaultMaxSessionsPerToken, "sessions per token; -1 for no limit")
	f.intVar(&o.maxStreams, "max-streams", "WASMNET_MAX_STREAMS", bridge.DefaultMaxStreams, "streams and listeners per session; -1 for no limit")
	f.intVar(&o.credit, "credit", "WASMNET_CREDIT", 32, "packets a client may send on a stream ahead of the bridge")
	f.sizeVar(&o.streamBuffer, "stream-buffer", "WASMNET_STREAM_BUFFER", "256KiB", "bytes a stream holds on their way to the client")
	f.sizeVar(&o.sessionBuffer, "session-buffer", "WASMNET_SESSION_BUFFER", "64MiB", "bytes a session holds in each direction")
	f.sizeVar(&o.maxBuffered, "max-buffered", "WASMNET_MAX_BUFFERED", "1GiB", "bytes the bridge holds in each direction")
	f.sizeVar(&o.rate, "rate", "WASMNET_RATE", "16MiB", "bytes per second per session, each way; 0 for no limit")

	f.durationVar(&o.dialTimeout, "dial-timeout", "WASMNET_DIAL_TIMEOUT", bridge.DefaultDialTimeout, "bound on resolving and connecting")
	f.durationVar(&o.handshakeTimeout, "handshake-timeout", "WASMNET_HANDSHAKE_TIMEOUT", bridge.DefaultHandshakeTimeout, "bound on the HTTP upgrade and on a Wisp v2 client's first packet")
	f.durationVar(&o.idleTimeout, "idle-timeout", "WASMNET_IDLE_TIMEOUT", bridge.DefaultIdleTimeout, "a session silent this long, or open this long with no streams, is closed")
	f.durationVar(&o.streamIdleTimeout, "stream-idle-timeout", "WASMNET_STREAM_IDLE_TIMEOUT", bridge.DefaultStreamIdleTimeout, "a stream that carries no data this long is closed")
	f.durationVar(&o.drainTimeout, "drain-timeout", "WASMNET_DRAIN_TIMEOUT", 30*time.Second, "on SIGTERM, how long open streams may finish before they are closed")

	fs.StringVar(&o.tlsCert, "tls-cert", f.env("WASMNET_TLS_CERT", ""), "serve TLS with this certificate `file` (PEM, chain included) ($WASMNET_TLS_CERT)")
	fs.StringVar(&o.tlsKey, "tls-key", f.env("WASMNET_TLS_KEY", ""), "the private key `file` of -tls-cert ($WASMNET_TLS_KEY)")
	fs.StringVar(&o.acmeDomains, "acme-domains", f.env("WASMNET_ACME_DOMAINS", ""), "get certificates for these comma-separated `domains` from an ACME CA (Let's Encrypt) ($WASMNET_ACME_DOMAINS)")
	fs.StringVar(&o.acmeCache, "acme-cache", f.env("WASMNET_ACME_CACHE", "acme-cache"), "`dir` where ACME keys and certificates are kept ($WASMNET_ACME_CACHE)")
	fs.StringVar(&o.acmeEmail, "acme-email", f.env("WASMNET_ACME_EMAIL", ""), "contact `address` for the ACME account ($WASMNET_ACME_EMAIL)")
	fs.StringVar(&o.acmeHTTPAddr, "acme-http-addr", f.env("WASMNET_ACME_HTTP_ADDR", ":80"), "`address` for ACME http-01 challenges and redirects to https; empty relies on tls-alpn-01 ($WASMNET_ACME_HTTP_ADDR)")
	fs.StringVar(&o.acmeDirectory, "acme-directory", f.env("WASMNET_ACME_DIRECTORY", ""), "ACME directory `URL`; empty means Let's Encrypt ($WASMNET_ACME_DIRECTORY)")

	fs.StringVar(&o.metricsAddr, "metrics-addr", f.env("WASMNET_METRICS_ADDR", "localhost:9101"), "`address` serving Prometheus metrics at /metrics; empty turns them off ($WASMNET_METRICS_ADDR)")
	fs.StringVar(&o.logLevel, "log", f.env("WASMNET_LOG", "info"), "log `level`: debug (every policy decision), info, warn or error ($WASMNET_LOG)")
	fs.StringVar(&o.logFormat, "log-format", f.env("WASMNET_LOG_FORMAT", "text"), "log `format`: text or json ($WASMNET_LOG_FORMAT)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
}

// config turns the options into the bridge's configuration.
func (o *options) config(log *slog.Logger) (bridge.Config, error) {
	cfg := bridge.Config{
		OriginPatterns:      splitList(o.origins),
		NoUDP:               o.noUDP,
		Credit:              uint32(o.credit),
		MaxSessions:         o.maxSessions,
		MaxSessionsPerIP:    o.maxPerIP,
		MaxSessionsPerToken: o.maxPerToken,
		MaxStreams:          o.maxStreams,
		StreamBuffer:        int(o.streamBuffer),
		SessionBuffer:       int(o.sessionBuffer),
		MaxBuffered:         int64(o.maxBuffered),
		Rate:                int64(o.rate),
		DialTimeout:         o.dialTimeout,
		HandshakeTimeout:    o.handshakeTimeout,
		IdleTimeout:         o.idleTimeout,
		StreamIdleTimeout:   o.streamIdleTimeout,
		Logger:              log,
	}
	if o.credit <= 0 || o.credit > 1<<16 {
		return cfg, fmt.Errorf("-credit: %d is not between 1 and 65536", o.credit)
	}
	// A zero limit in the bridge's Config means its default; here 0 and
	// -1 both mean none, as the help says for -rate.
	for _, p := range []*int{&cfg.StreamBuffer, &cfg.SessionBuffer} {
		if *p == 0 {
			*p = -1
		}
	}
	if cfg.MaxBuffered == 0 {
		cfg.MaxBuffered = -1
	}
	if o.policyFile != "" {
		f, err := os.Open(o.policyFile)
		if err != nil {
			return cfg, fmt.Errorf("-policy: %w", err)
		}
		cfg.Policy, err = bridge.ParsePolicy(f)
		f.Close()
		if err != nil {
			return cfg, fmt.Errorf("-policy %s: %w", o.policyFile, err)
		}
	}
	allow, err := bridge.ParseRules(o.allow)
	if err != nil {
		return cfg, fmt.Errorf("-allow: %w", err)
	}
	deny, err := bridge.ParseRules(o.deny)
	if err != nil {
		return cfg, fmt.Errorf("-deny: %w", err)
	}
	cfg.Policy.Allow = append(cfg.Policy.Allow, allow...)
	cfg.Policy.Deny = append(cfg.Policy.Deny, deny...)
	for _, s := range splitList(o.trustedProxies) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			ip, err2 := netip.ParseAddr(s)
			if err2 != nil {
				return cfg, fmt.Errorf("-trusted-proxies: %w", err)
			}
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, p)
	}
	if o.tokenKeys != "" {
		var keys []ed25519PublicKey
		for _, file := range splitList(o.tokenKeys) {
			k, err := readPublicKeys(file)
			if err != nil {
				return cfg, fmt.Errorf("-token-keys: %w", err)
			}
			keys = append(keys, k...)
		}
		cfg.Tokens = &bridge.TokenConfig{Keys: keys, Optional: o.tokenOptional, OpenSpecial: o.tokenSpecial}
	} else if o.tokenOptional || o.tokenSpecial {
		return cfg, errors.New("-token-optional and -token-special need -token-keys")
	}
	cfg.Listen, err = listenConfig(o.listenPorts, o.listenAddr, o.endpoints)
	return cfg, err
}

// serve runs the bridge until ctx ends, then drains it. Once it listens,
// it calls ready, if not nil, with the addresses it bound: the bridge's
// and the metrics' (nil when they are off). Tests learn from it the ports
// that -addr 127.0.0.1:0 picked.
func serve(ctx context.Context, stop context.CancelFunc, args []string, stderr io.Writer, ready func(addr, metrics net.Addr)) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("-log: %w", err)
	}
	var lh slog.Handler
	switch o.logFormat {
	case "text":
		lh = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		lh = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		return fmt.Errorf("-log-format: %q is neither text nor json", o.logFormat)
	}
	log := slog.New(lh)

	cfg, err := o.config(log)
	if err != nil {
		return err
	}
	if len(cfg.Policy.Allow) == 0 && cfg.Tokens == nil {
		log.Warn("no allow rules: every destination is refused; see -allow and -policy")
	}
	tlsConfig, acmeHandler, err := o.tls()
	if err != nil {
		return err
	}

	h := bridge.NewHandler(cfg)
	mux := http.NewServeMux()
	mux.Handle(o.path, h)
	mux.Handle("/healthz", h.Health())
	if o.static != "" {
		mux.Handle("/", webserve.Static(o.static))
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		h.Close()
		return err
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: o.handshakeTimeout,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(lh, slog.LevelWarn),
		TLSConfig:         tlsConfig,
		// WebSockets need HTTP/1.1; without an HTTP/2 upgrade path
		// (RFC 8441) in coder/websocket, offering h2 would only break
		// them.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	errc := make(chan error, 3)
	go func() {
		if tlsConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	var side []*http.Server // the metrics and ACME servers
	var metricsAddr net.Addr
	if o.metricsAddr != "" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(h.Collector(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		mm := http.NewServeMux()
		mm.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mln, err := net.Listen("tcp", o.metricsAddr)
		if err != nil {
			ln.Close()
			h.Close()
			return fmt.Errorf("-metrics-addr: %w (use -metrics-addr '' to turn metrics off)", err)
		}
		ms := &http.Server{Handler: mm, ReadHeaderTimeout: 10 * time.Second}
		side = append(side, ms)
		go func() { errc <- ms.Serve(mln) }()
		metricsAddr = mln.Addr()
		log.Info("metrics listening", "addr", metricsAddr.String())
	}
	if acmeHandler != nil {
		as := &http.Server{Addr: o.acmeHTTPAddr, Handler: acmeHandler, ReadHeaderTimeout: 10 * time.Second}
		side = append(side, as)
		go func() { errc <- as.ListenAndServe() }()
	}
	log.Info("bridge listening", "addr", ln.Addr().String(), "path", o.path, "tls", tlsConfig != nil,
		"allow", len(cfg.Policy.Allow), "deny", len(cfg.Policy.Deny), "tokens", cfg.Tokens != nil)
	if ready != nil {
		ready(ln.Addr(), metricsAddr)
	}

	select {
	case err := <-errc:
		h.Close()
		return err
	case <-ctx.Done():
	}
	stop() // a second signal kills the process at once
	log.Info("shutting down: no new sessions; draining streams", "deadline", o.drainTimeout)
	drain, cancel := context.WithTimeout(context.Background(), o.drainTimeout)
	defer cancel()
	// The server goes on answering while the streams drain: /healthz and
	// new sessions get 503, so that a load balancer moves clients away
	// rather than seeing connections refused. Hijacked WebSockets are the
	// handler's, not the server's.
	err = h.Shutdown(drain)
	done, cancelDone := context.WithTimeout(context.Background(), 5*time.Second)
	srv.Shutdown(done) // idle HTTP connections, and requests in flight
	cancelDone()
	for _, s := range side {
		s.Close()
	}
	srv.Close()
	if err != nil {
		log.Info("drain deadline passed; the streams left were closed with reason 0xD2")
	}
	log.Info("stopped")
	return nil
}

// tls returns the TLS configuration, if any, and the HTTP handler that
// answers ACME challenges, if ACME is on.
func (o *options) tls() (*tls.Config, http.Handler, error) {
	switch {
	case o.acmeDomains != "" && (o.tlsCert != "" || o.tlsKey != ""):
		return nil, nil, errors.New("-acme-domains and -tls-cert are exclusive")
	case (o.tlsCert == "") != (o.tlsKey == ""):
		return nil, nil, errors.New("-tls-cert and -tls-key go together")
	case o.tlsCert != "":
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return nil, nil, fmt.Errorf("-tls-cert: %w", err)
		}
		return &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{cert},
			NextProtos:   []string{"http/1.1"},
		}, nil, nil
	case o.acmeDomains != "":
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			HostPolicy: autocert.HostWhitelist(splitList(o.acmeDomains)...),
			Cache:      autocert.DirCache(o.acmeCache),
			Email:      o.acmeEmail,
		}
		if o.acmeDirectory != "" {
			m.Client = &acme.Client{DirectoryURL: o.acmeDirectory}
		}
		c := m.TLSConfig()
		c.MinVersion = tls.VersionTLS12
		c.NextProtos = []string{"http/1.1", acme.ALPNProto}
		var handler http.Handler
		if o.acmeHTTPAddr != "" {
			handler = m.HTTPHandler(nil)
		}
		return c, handler, nil
	}
	return nil, nil, nil
}

// listenConfig turns the listening flags into a configuration; nil when
// listening is off.
func listenConfig(ports, addr string, endpoints bool) (*bridge.ListenConfig, error) {
	if ports == "" && !endpoints {
		if addr != "" {
			return nil, errors.New("-listen-addr needs -listen-ports")
		}
		return nil, nil
	}
	cfg := &bridge.ListenConfig{Endpoints: endpoints}
	if ports != "" {
		var err error
		if cfg.PortLow, cfg.PortHigh, err = bridge.ParsePortRange(ports); err != nil {
			return nil, fmt.Errorf("-listen-ports: %w", err)
		}
	}
	if addr != "" {
		ip, err := netip.ParseAddr(strings.Trim(addr, "[]"))
		if err != nil {
			return nil, fmt.Errorf("-listen-addr: %w", err)
		}
		cfg.Addr = ip
	}
	return cfg, nil
}
