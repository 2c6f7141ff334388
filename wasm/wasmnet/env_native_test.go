//go:build !js && !wasip1

package wasmnet_test

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/wasmnet/wasmnet/bridge"
	"github.com/wasmnet/wasmnet/internal/exampletest"
	"github.com/wasmnet/wasmnet/internal/services"
)

// testEnv starts a bridge and the services the tests reach through it.
func testEnv(t testing.TB) env {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	dns, err := services.DNS(services.Zone)
	must(err)
	t.Cleanup(func() { dns.Close() })
	_, url := newTestBridge(t, dns.Addr())

	echo, err := services.Echo("127.0.0.1:0")
	must(err)
	t.Cleanup(func() { echo.Close() })
	pair, err := services.Pair("127.0.0.1:0")
	must(err)
	t.Cleanup(func() { pair.Close() })

	ca, err := services.NewCA()
	must(err)
	tlsConf, err := ca.ServerTLS("mail.wasmnet.test")
	must(err)
	sink, err := services.SMTP("127.0.0.1:0", tlsConf, true)
	must(err)
	t.Cleanup(func() { sink.Close() })
	mailbox, err := sink.Mailbox("127.0.0.1:0")
	must(err)
	t.Cleanup(func() { mailbox.Close() })

	return env{
		Bridge:  url,
		Echo:    echo.Addr().String(),
		Pair:    pair.Addr().String(),
		SMTP:    sink.Addr().String(),
		Mailbox: mailbox.Addr().String(),
		DNS:     dns.Addr(),
		CA:      string(ca.PEM),
	}
}

// newTestBridge starts a bridge that may reach loopback, resolves names
// with the DNS server at dnsAddr (if any), and lets clients listen on a
// range of free loopback ports and on named endpoints.
func newTestBridge(t testing.TB, dnsAddr string) (*bridge.Handler, string) {
	t.Helper()
	rules, err := bridge.ParseRules("127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	low, high := exampletest.FreePortRange(t, 20)
	cfg := bridge.Config{
		Policy: bridge.Policy{Allow: rules},
		Logger: slog.New(slog.DiscardHandler),
		Listen: &bridge.ListenConfig{
			Addr:      netip.MustParseAddr("127.0.0.1"),
			PortLow:   low,
			PortHigh:  high,
			Endpoints: true,
		},
	}
	if dnsAddr != "" {
		cfg.Resolver = &net.Resolver{
			PreferGo: true,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, dnsAddr)
			},
		}
	}
	h := bridge.NewHandler(cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); h.Close() })
	return h, "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
}
