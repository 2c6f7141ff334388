//go:build !js && !wasip1

package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/bridge"
	"github.com/wasmnet/wasmnet/internal/exampletest"
	"github.com/wasmnet/wasmnet/internal/services"
)

// TestMX sends with no -server: the program looks up the MX of the
// recipient's domain through the bridge, whose resolver here asks a test
// DNS server (wasmnet.test MX mail.wasmnet.test, which is 127.0.0.1), and
// delivers to go-smtp there.
func TestMX(t *testing.T) {
	ns, err := services.DNS(services.Zone)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	ca, err := services.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig, err := ca.ServerTLS(serverName)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := services.SMTP("127.0.0.1:0", tlsConfig, true)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.RequireAuth(testUser, testPassword)

	rules, err := bridge.ParseRules(sink.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	h := bridge.NewHandler(bridge.Config{
		Policy: bridge.Policy{Allow: rules},
		Resolver: &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, ns.Addr())
		}},
		Logger: slog.New(slog.DiscardHandler),
	})
	mux := http.NewServeMux()
	mux.Handle("/wisp/", h)
	srv := httptest.NewServer(mux)
	defer func() { srv.Close(); h.Close() }()

	args, marker, want := testMail("")
	args = append(args[2:], "-port", portOf(sink.Addr())) // no -server
	out := exampletest.RunWazero(t, "examples/smtp", "ws"+strings.TrimPrefix(srv.URL, "http")+"/wisp/",
		map[string]string{"SMTP_PASSWORD": testPassword, "SMTP_CA": string(ca.PEM)}, args...)
	t.Logf("program output:\n%s", out)
	if !strings.Contains(out, "MX of wasmnet.test: mail.wasmnet.test\n") {
		t.Errorf("no MX step in the output")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mail, err := sink.Find(ctx, marker)
	if err != nil {
		t.Fatal(err)
	}
	if string(mail.Data) != want {
		t.Errorf("go-smtp received\n%q\nwant\n%q", mail.Data, want)
	}
}

func portOf(a *net.TCPAddr) string {
	_, port, _ := net.SplitHostPort(a.String())
	return port
}
