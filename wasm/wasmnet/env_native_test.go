//go:build !js && !wasip1

package wasmnet_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wasmnet/wasmnet/bridge"
	"github.com/wasmnet/wasmnet/internal/services"
)

// testEnv starts a bridge and the services the tests reach through it.
func testEnv(t testing.TB) env {
	t.Helper()
	rules, err := bridge.ParseRules("127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	h := bridge.NewHandler(bridge.Config{Policy: bridge.Policy{Allow: rules}})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); h.Close() })

	echo, err := services.Echo("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Close() })
	pair, err := services.Pair("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pair.Close() })

	return env{
		Bridge: "ws" + strings.TrimPrefix(srv.URL, "http") + "/",
		Echo:   echo.Addr().String(),
		Pair:   pair.Addr().String(),
	}
}
