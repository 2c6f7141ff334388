//go:build !js && !wasip1

package wasmnet_test

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wasmnet/wasmnet/bridge"
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
	rules, err := bridge.ParseRules("127.0.0.1/32")
	must(err)
	h := bridge.NewHandler(bridge.Config{
		Policy: bridge.Policy{Allow: rules},
		Logger: slog.New(slog.DiscardHandler),
	})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); h.Close() })

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
	dns, err := services.DNS(services.Zone)
	must(err)
	t.Cleanup(func() { dns.Close() })

	return env{
		Bridge:  "ws" + strings.TrimPrefix(srv.URL, "http") + "/",
		Echo:    echo.Addr().String(),
		Pair:    pair.Addr().String(),
		SMTP:    sink.Addr().String(),
		Mailbox: mailbox.Addr().String(),
		DNS:     dns.Addr(),
		CA:      string(ca.PEM),
	}
}
