// Command bridge runs the wasmnet bridge: a Wisp v2 relay that opens TCP
// sockets for web pages, over one WebSocket per page.
//
// Every flag has an environment equivalent, named in its help text; a flag
// given on the command line wins.
//
//	bridge -addr :8080 -allow '*:443,mail.example.com:25' -origins app.example.com
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wasmnet/wasmnet/bridge"
	"github.com/wasmnet/wasmnet/internal/webserve"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bridge:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("bridge", flag.ContinueOnError)
	env := func(name, def string) string {
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return def
	}
	addr := fs.String("addr", env("WASMNET_ADDR", "localhost:8080"), "listen `address` ($WASMNET_ADDR)")
	path := fs.String("path", env("WASMNET_PATH", "/wisp/"), "URL `path` of the Wisp endpoint ($WASMNET_PATH)")
	allow := fs.String("allow", env("WASMNET_ALLOW", ""), "comma-separated allow `rules` HOST[:PORTS], e.g. '*:443,10.1.2.3:5432' ($WASMNET_ALLOW)")
	deny := fs.String("deny", env("WASMNET_DENY", ""), "comma-separated deny `rules`, which win over allow rules ($WASMNET_DENY)")
	origins := fs.String("origins", env("WASMNET_ORIGINS", ""), "comma-separated `origins` allowed besides the bridge's own, e.g. 'app.example.com' ($WASMNET_ORIGINS)")
	static := fs.String("static", env("WASMNET_STATIC", ""), "serve the files of `dir` at / beside the bridge ($WASMNET_STATIC)")
	listenPorts := fs.String("listen-ports", env("WASMNET_LISTEN_PORTS", ""), "let clients listen on public ports in this `range`, such as 20000-20099 ($WASMNET_LISTEN_PORTS)")
	listenAddr := fs.String("listen-addr", env("WASMNET_LISTEN_ADDR", ""), "`address` public ports are bound on; empty means every address ($WASMNET_LISTEN_ADDR)")
	endpoints := fs.Bool("endpoints", envBool("WASMNET_ENDPOINTS"), "let clients register named endpoints under .wasmnet.internal ($WASMNET_ENDPOINTS)")
	noUDP := fs.Bool("no-udp", envBool("WASMNET_NO_UDP"), "refuse UDP streams ($WASMNET_NO_UDP)")
	dialTimeout := fs.Duration("dial-timeout", envDuration("WASMNET_DIAL_TIMEOUT", 10*time.Second), "bound on resolving and connecting ($WASMNET_DIAL_TIMEOUT)")
	logLevel := fs.String("log", env("WASMNET_LOG", "info"), "log `level`: debug, info, warn or error ($WASMNET_LOG)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	allowRules, err := bridge.ParseRules(*allow)
	if err != nil {
		return fmt.Errorf("-allow: %w", err)
	}
	denyRules, err := bridge.ParseRules(*deny)
	if err != nil {
		return fmt.Errorf("-deny: %w", err)
	}
	if len(allowRules) == 0 {
		log.Warn("no allow rules: every destination is refused; see -allow")
	}
	listen, err := listenConfig(*listenPorts, *listenAddr, *endpoints)
	if err != nil {
		return err
	}
	h := bridge.NewHandler(bridge.Config{
		Policy:         bridge.Policy{Allow: allowRules, Deny: denyRules},
		OriginPatterns: splitList(*origins),
		DialTimeout:    *dialTimeout,
		NoUDP:          *noUDP,
		Listen:         listen,
		Logger:         log,
	})

	mux := http.NewServeMux()
	mux.Handle(*path, h)
	if *static != "" {
		mux.Handle("/", webserve.Static(*static))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("bridge listening", "addr", ln.Addr().String(), "path", *path, "allow", *allow, "deny", *deny)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.Close()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
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
		lo, hi, _ := strings.Cut(ports, "-")
		if hi == "" {
			hi = lo
		}
		l, err1 := strconv.ParseUint(lo, 10, 16)
		h, err2 := strconv.ParseUint(hi, 10, 16)
		if err1 != nil || err2 != nil || l == 0 || l > h {
			return nil, fmt.Errorf("-listen-ports: bad range %q", ports)
		}
		cfg.PortLow, cfg.PortHigh = uint16(l), uint16(h)
	}
	if addr != "" {
		ip, err := netip.ParseAddr(addr)
		if err != nil {
			return nil, fmt.Errorf("-listen-addr: %w", err)
		}
		cfg.Addr = ip
	}
	return cfg, nil
}

func envBool(name string) bool {
	v, _ := strconv.ParseBool(os.Getenv(name))
	return v
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
