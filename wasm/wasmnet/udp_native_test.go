//go:build !js && !wasip1

package wasmnet_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// TestListenPacketNoBridge: ListenPacket opens the session, so a bridge
// that cannot be reached is its error, not that of the first WriteTo.
func TestListenPacketNoBridge(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "ws://" + ln.Addr().String() + "/"
	ln.Close()
	d := &wasmnet.Dialer{Bridge: dead}
	defer d.Close()
	pc, err := d.ListenPacket("udp", ":0")
	var brErr *wasmnet.BridgeError
	if !errors.As(err, &brErr) {
		if pc != nil {
			pc.Close()
		}
		t.Fatalf("ListenPacket through %s: %v, want a *wasmnet.BridgeError", dead, err)
	}
}

// TestPacketConnBridgeLost: a ReadFrom that waits when the bridge goes
// away returns its error instead of waiting for ever.
func TestPacketConnBridgeLost(t *testing.T) {
	h, srv, url := startBridge(t)
	echo := udpEcho(t)

	d := &wasmnet.Dialer{Bridge: url}
	defer d.Close()
	pc, err := d.ListenPacket("udp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.WriteTo([]byte("ping"), echo.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	if n, from, err := pc.ReadFrom(buf); err != nil || string(buf[:n]) != "ping" || from.String() != echo.LocalAddr().String() {
		t.Fatalf("ReadFrom: %q from %v, %v; want the echo of ping from %v", buf[:n], from, err, echo.LocalAddr())
	}

	read := make(chan error, 1)
	go func() {
		_, _, err := pc.ReadFrom(buf)
		read <- err
	}()
	srv.CloseClientConnections()
	srv.Close()
	h.Close()
	select {
	case err := <-read:
		var brErr *wasmnet.BridgeError
		if !errors.As(err, &brErr) {
			t.Errorf("ReadFrom after the bridge went away: %v, want a *wasmnet.BridgeError", err)
		}
	case <-time.After(20 * time.Second): // a hang guard, not a timing
		t.Fatal("ReadFrom still waits after the bridge went away")
	}
}

// TestEmptyDatagram: a datagram of no bytes is a datagram, both ways, and
// a Read returns it alone.
func TestEmptyDatagram(t *testing.T) {
	_, _, url := startBridge(t)
	echo := udpEcho(t)
	d := &wasmnet.Dialer{Bridge: url}
	defer d.Close()
	c, err := d.Dial("udp", echo.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second)) // a hang guard
	buf := make([]byte, 1500)
	for _, dg := range []string{"", "x", "", "yz"} {
		if _, err := c.Write([]byte(dg)); err != nil {
			t.Fatal(err)
		}
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != dg {
			t.Fatalf("Read after writing %q: %q, %v", dg, buf[:n], err)
		}
	}
}

// udpEcho answers each datagram with itself, on a loopback port.
func udpEcho(t *testing.T) net.PacketConn {
	t.Helper()
	echo, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Close() })
	go func() {
		buf := make([]byte, 1<<16)
		for {
			n, from, err := echo.ReadFrom(buf)
			if err != nil {
				return
			}
			echo.WriteTo(buf[:n], from)
		}
	}()
	return echo
}
