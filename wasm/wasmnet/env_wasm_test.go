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
	var e env
	for _, v := range envVars {
		*v.field(&e) = os.Getenv(v.name)
	}
	if e.Bridge == "" {
		t.Skip("inside wasm this test needs the services that the native tests TestInsideWazero and TestInsideNode start")
	}
	return e
}
