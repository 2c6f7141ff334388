package wasmnet_test

import (
	"net"
	"testing"

	"golang.org/x/net/nettest"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// TestEndpointConformance joins two sessions through a named endpoint on
// the bridge, as two tabs would, and runs the net.Conn conformance suite
// on that pipe.
func TestEndpointConformance(t *testing.T) {
	e := testEnv(t)
	server := &wasmnet.Dialer{Bridge: e.Bridge}
	client := &wasmnet.Dialer{Bridge: e.Bridge}
	defer server.Close()
	defer client.Close()

	name := "conformance-" + randomHex(4) + ".wasmnet.internal:7"
	l, err := server.Listen("tcp", name)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Addr().String() != name {
		t.Errorf("Addr is %v, want %s", l.Addr(), name)
	}
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		if c2, err = client.Dial("tcp", name); err != nil {
			return nil, nil, nil, err
		}
		if c1, err = l.Accept(); err != nil {
			c2.Close()
			return nil, nil, nil, err
		}
		return c1, c2, func() { c1.Close(); c2.Close() }, nil
	})
}
