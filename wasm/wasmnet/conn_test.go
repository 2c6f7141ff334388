package wasmnet_test

import (
	"crypto/rand"
	"net"
	"testing"

	"golang.org/x/net/nettest"

	"github.com/wasmnet/wasmnet/internal/services"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// TestConnConformance runs the net.Conn conformance suite on two streams
// joined end to end by the pairing server, both going through the bridge.
func TestConnConformance(t *testing.T) {
	e := testEnv(t)
	d := &wasmnet.Dialer{Bridge: e.Bridge}
	t.Cleanup(func() { d.Close() })
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		return dialPair(d, e.Pair)
	})
}

// dialPair opens two streams to the pairing server with the same token.
func dialPair(d *wasmnet.Dialer, addr string) (c1, c2 net.Conn, stop func(), err error) {
	token := make([]byte, services.PairTokenLen)
	rand.Read(token)
	if c1, err = d.Dial("tcp", addr); err != nil {
		return nil, nil, nil, err
	}
	if c2, err = d.Dial("tcp", addr); err != nil {
		c1.Close()
		return nil, nil, nil, err
	}
	for _, c := range []net.Conn{c1, c2} {
		if _, err := c.Write(token); err != nil {
			c1.Close()
			c2.Close()
			return nil, nil, nil, err
		}
	}
	return c1, c2, func() { c1.Close(); c2.Close() }, nil
}
