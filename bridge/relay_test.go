//go:build !js && !wasip1

package bridge

// How the bridge relays a stream between a raw Wisp client and a real TCP
// destination: ends of stream, half-close, resets and OPENED.

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/wisp"
)

// readAll reads c to its end, failing the test on a hang.
func readAll(t *testing.T, c net.Conn) ([]byte, error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(hang))
	b, err := io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the destination never saw the end of the stream (%d bytes read)", len(b))
	}
	return b, err
}

// expectReset reads from c until the connection fails, which must be a
// reset.
func expectReset(t *testing.T, c net.Conn) {
	t.Helper()
	b, err := readAll(t, c)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("destination read %d bytes and then %v, want ECONNRESET", len(b), err)
	}
}

// The destination closing ends a v1 stream: its data, then CLOSE 0x02.
func TestDestinationCloses(t *testing.T) {
	b := loopbackBridge(t)
	dest := listen(t, nil)
	s := dialV1(t, b)
	s.connect(1, dest.addr())
	c := dest.accept(t)
	c.Write([]byte("goodbye"))
	c.Close()
	if got := s.readData(1, 7); string(got) != "goodbye" {
		t.Fatalf("got %q", got)
	}
	s.expectClose(1, wisp.ReasonVoluntary)
	s.echo(b)
	s.ws.Close(websocket.StatusNormalClosure, "")
	b.waitIdle(t)
}

// A destination that resets the connection ends the stream with 0x03.
func TestDestinationResets(t *testing.T) {
	b := loopbackBridge(t)
	dest := listen(t, nil)
	s := dialV1(t, b)
	s.connect(1, dest.addr())
	c := dest.accept(t)
	// Make sure the bridge is connected before the reset.
	s.data(1, []byte("x"))
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	c.SetLinger(0)
	c.Close()
	s.expectClose(1, wisp.ReasonNetworkError)
	s.echo(b)
}

// Half-close: the client's FIN reaches the destination as EOF, the
// destination can still answer, and its close comes back as FIN, then
// CLOSE 0x02.
func TestHalfCloseFromClient(t *testing.T) {
	b := loopbackBridge(t)
	dest := listen(t, nil)
	s := dialV2(t, b, wisp.ExtHalfClose)
	s.connect(1, dest.addr())
	c := dest.accept(t)

	s.data(1, []byte("request"))
	s.send(wisp.Packet{Type: wisp.TypeFin, Stream: 1})
	got, err := readAll(t, c)
	if err != nil || string(got) != "request" {
		t.Fatalf("destination read %q, %v; want %q and EOF", got, err, "request")
	}

	if _, err := c.Write([]byte("response")); err != nil {
		t.Fatalf("destination cannot answer after the client's FIN: %v", err)
	}
	c.Close()
	if got := s.readData(1, len("response")); string(got) != "response" {
		t.Fatalf("client got %q", got)
	}
	if p := s.nextOn(1); p.Type != wisp.TypeFin {
		t.Fatalf("after the data: %v, want FIN", p.Type)
	}
	s.expectClose(1, wisp.ReasonVoluntary)
	s.echo(b)
	s.ws.Close(websocket.StatusNormalClosure, "")
	b.waitIdle(t)
}

// Half-close the other way: the destination's CloseWrite comes as FIN,
// and the client can still send until its own FIN.
func TestHalfCloseFromDestination(t *testing.T) {
	b := loopbackBridge(t)
	dest := listen(t, nil)
	s := dialV2(t, b, wisp.ExtHalfClose)
	s.connect(1, dest.addr())
	c := dest.accept(t)

	c.Write([]byte("banner"))
	c.CloseWrite()
	if got := s.readData(1, len("banner")); string(got) != "banner" {
		t.Fatalf("client got %q", got)
	}
	if p := s.nextOn(1); p.Type != wisp.TypeFin {
		t.Fatalf("after the data: %v, want FIN", p.Type)
	}

	s.data(1, []byte("still talking"))
	s.send(wisp.Packet{Type: wisp.TypeFin, Stream: 1})
	got, err := readAll(t, c)
	if err != nil || string(got) != "still talking" {
		t.Fatalf("destination read %q, %v; want %q and EOF", got, err, "still talking")
	}
	s.expectClose(1, wisp.ReasonVoluntary)
	s.echo(b)
}

// OPENED carries the addresses of the socket the bridge opened.
func TestOpened(t *testing.T) {
	b := loopbackBridge(t)
	dest := listen(t, nil)
	s := dialV2(t, b, wisp.ExtOpened)
	s.connect(1, dest.addr())
	c := dest.accept(t)
	p := s.nextOn(1)
	if p.Type != wisp.TypeOpened {
		t.Fatalf("first packet on the stream is %v, want OPENED", p.Type)
	}
	wantRemote := netip.MustParseAddrPort(dest.addr())
	wantLocal := netip.MustParseAddrPort(c.RemoteAddr().String())
	if p.Opened.Remote != wantRemote {
		t.Errorf("OPENED remote is %v, want %v", p.Opened.Remote, wantRemote)
	}
	if p.Opened.Local != wantLocal {
		t.Errorf("OPENED local is %v, want %v (the bridge's end, as the destination sees it)", p.Opened.Local, wantLocal)
	}
	s.data(1, []byte("hi"))
	if _, err := io.ReadFull(c, make([]byte, 2)); err != nil {
		t.Fatal(err)
	}
}

// Without the extension there is no OPENED: the first packet of an echo
// is its DATA.
func TestNoOpenedWithoutExtension(t *testing.T) {
	b := loopbackBridge(t)
	s := dialV2(t, b, wisp.ExtHalfClose)
	s.connect(1, b.echo.String())
	s.data(1, []byte("x"))
	if p := s.nextOn(1); p.Type != wisp.TypeData {
		t.Fatalf("first packet on the stream is %v, want DATA", p.Type)
	}
}

// A voluntary CLOSE from the client still delivers what it sent before,
// and then the destination sees EOF, as closing a socket would. Wisp
// sends no CLOSE back.
func TestClientCloseDeliversData(t *testing.T) {
	b := loopbackBridge(t)
	// A destination that does not read until the CLOSE is sent, with a
	// small receive buffer, so that the data is still on its way (in the
	// bridge or the kernel) when the CLOSE arrives.
	dest := listen(t, smallReceiveBuffer())
	s := dialV1(t, b)
	s.connect(1, dest.addr())
	c := dest.accept(t)

	var want []byte
	for i := range int(s.credit) {
		payload := bytes.Repeat([]byte{byte(i)}, buffer.MaxPayload)
		want = append(want, payload...)
		s.data(1, payload)
	}
	s.close(1, wisp.ReasonVoluntary)
	// The echo also shows that no CLOSE came back for stream 1: nextOn
	// fails on any packet but CONTINUE on another stream.
	s.echo(b)

	got, err := readAll(t, c)
	if err != nil {
		t.Fatalf("destination read %d of %d bytes and then %v, want EOF", len(got), len(want), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("destination read %d bytes, want %d (equal: %v)", len(got), len(want), bytes.Equal(got, want[:min(len(got), len(want))]))
	}
	s.echo(b)
	s.ws.Close(websocket.StatusNormalClosure, "")
	b.waitIdle(t)
}

// A CLOSE with reason 0x03 resets the destination's connection.
func TestClientCloseResets(t *testing.T) {
	b := loopbackBridge(t)
	dest := listen(t, nil)
	s := dialV2(t, b, wisp.ExtOpened)
	s.connect(1, dest.addr())
	c := dest.accept(t)
	if p := s.nextOn(1); p.Type != wisp.TypeOpened {
		t.Fatalf("got %v, want OPENED", p.Type)
	}
	s.close(1, wisp.ReasonNetworkError)
	expectReset(t, c)
	s.echo(b)
}

// A reset asked for while the bridge is still connecting is a reset too,
// not a graceful close.
func TestClientCloseResetsWhileDialing(t *testing.T) {
	b := loopbackBridge(t)
	dest := listen(t, nil)
	s := dialV1(t, b)
	for i := range 20 {
		id := uint32(100 + i)
		// Back to back, so that the CLOSE usually arrives before the
		// bridge's connect returns.
		s.connect(id, dest.addr())
		s.close(id, wisp.ReasonNetworkError)
		c := dest.accept(t)
		expectReset(t, c)
	}
	s.echo(b)
}

// A session that ends resets the connections of its streams.
func TestSessionEndResetsStreams(t *testing.T) {
	b := loopbackBridge(t)
	dest := listen(t, nil)
	s := dialV2(t, b, wisp.ExtOpened)
	s.connect(1, dest.addr())
	c := dest.accept(t)
	if p := s.nextOn(1); p.Type != wisp.TypeOpened {
		t.Fatalf("got %v, want OPENED", p.Type)
	}
	s.ws.CloseNow()
	expectReset(t, c)
	b.waitIdle(t)
}

func smallReceiveBuffer() *net.ListenConfig {
	return &net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
}
