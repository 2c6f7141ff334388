//go:build js || wasip1

package wasmnet_test

import (
	"os"
	"testing"
)

// testEnv reads the services that TestInsideWazero or TestInsideNode
// started on the host.
func testEnv(t testing.TB) env {
	t.Helper()
	e := env{
		Bridge: os.Getenv("WASMNET_TEST_BRIDGE"),
		Echo:   os.Getenv("WASMNET_TEST_ECHO"),
		Pair:   os.Getenv("WASMNET_TEST_PAIR"),
	}
	if e.Bridge == "" {
		t.Skip("inside wasm this test needs the services that the native tests TestInsideWazero and TestInsideNode start")
	}
	return e
}
