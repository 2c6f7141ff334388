//go:build !js && !wasip1

package bridge

// What the bridge does with a client that breaks the protocol: each case
// checks the specific error the bad session gets, and that a good session
// open on the same bridge at the same time keeps working.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/internal/protodoc"
	"github.com/wasmnet/wasmnet/wisp"
)

// withGoodSession runs bad against a bridge while a second session is
// open on it, then closes the session bad returns and checks that the
// second session still relays and that the bridge ends up holding nothing.
func withGoodSession(t *testing.T, b *testBridge, bad func(t *testing.T) *rawSession) {
	t.Helper()
	good := dialV2(t, b, wisp.ExtHalfClose)
	good.echo(b)
	s := bad(t)
	s.ws.CloseNow()
	good.echo(b)
	good.ws.Close(websocket.StatusNormalClosure, "")
	b.waitIdle(t)
}

func TestHandshakeV1(t *testing.T) {
	b := loopbackBridge(t)
	s := &rawSession{t: t, ws: dialWS(t, b.url), nextID: 1}
	if p := s.ws.Subprotocol(); p != "" {
		t.Fatalf("bridge selected subprotocol %q for a client that offered none", p)
	}
	p := s.next()
	if p.Type != wisp.TypeContinue || p.Stream != 0 || p.Credit != 32 {
		t.Fatalf("first packet is %v on stream %d with credit %d, want CONTINUE on stream 0 with credit 32", p.Type, p.Stream, p.Credit)
	}
	// Nothing else comes before the bridge answers: no INFO in v1 (next
	// fails the test on anything but CONTINUE and the echo).
	s.echo(b)
}

func TestHandshakeV2(t *testing.T) {
	for _, offer := range [][]string{
		{"wisp-v2"},
		{"something-else", "wisp-v2"},
	} {
		t.Run(fmt.Sprint(offer), func(t *testing.T) {
			b := loopbackBridge(t)
			s := &rawSession{t: t, ws: dialWS(t, b.url, offer...), nextID: 1}
			if p := s.ws.Subprotocol(); p != "wisp-v2" {
				t.Fatalf("bridge selected subprotocol %q, want wisp-v2", p)
			}
			// The bridge's INFO is the one docs/PROTOCOL.md gives, byte
			// for byte.
			want, err := protodoc.Find("vectors", "info-v2-wasmnet-bridge")
			if err != nil {
				t.Fatal(err)
			}
			msg, err := s.read()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(msg, want) {
				t.Fatalf("first message is\n%s\nwant the INFO of docs/PROTOCOL.md\n%s", protodoc.FormatHex(msg), protodoc.FormatHex(want))
			}
			// The bridge sends CONTINUE without waiting for the client's
			// INFO, as the spec drafts allow.
			p := s.next()
			if p.Type != wisp.TypeContinue || p.Stream != 0 || p.Credit != 32 {
				t.Fatalf("second packet is %v on stream %d with credit %d, want CONTINUE on stream 0 with credit 32", p.Type, p.Stream, p.Credit)
			}
			s.send(wisp.Packet{Type: wisp.TypeInfo, Info: wisp.Info{Major: 2}})
			s.echo(b)
		})
	}
}

// A client that offers a subprotocol other than wisp-v2 speaks v2, as
// with wisp-js.
func TestHandshakeOtherSubprotocol(t *testing.T) {
	b := loopbackBridge(t)
	s := &rawSession{t: t, ws: dialWS(t, b.url, "some-token"), nextID: 1}
	if p := s.ws.Subprotocol(); p != "some-token" {
		t.Fatalf("bridge selected subprotocol %q, want some-token", p)
	}
	if p := s.next(); p.Type != wisp.TypeInfo {
		t.Fatalf("first packet is %v, want INFO", p.Type)
	}
}

func TestHandshakeCredit(t *testing.T) {
	b := startBridge(t, Config{Credit: 7})
	if s := dialV1(t, b); s.credit != 7 {
		t.Fatalf("CONTINUE on stream 0 carries credit %d, want the configured 7", s.credit)
	}
}

func TestMalformedPacket(t *testing.T) {
	cases := []struct {
		name string
		msg  []byte
		text string // in the close reason
	}{
		{"3 bytes", []byte{0x02, 0x01, 0x00}, "shorter than the 5-byte header"},
		{"empty", []byte{}, "shorter than the 5-byte header"},
		{"CLOSE with 2-byte payload", []byte{0x04, 1, 0, 0, 0, 0x02, 0x02}, "malformed CLOSE packet"},
		{"CONNECT without port", []byte{0x01, 1, 0, 0, 0, 0x01}, "malformed CONNECT packet"},
		{"unknown type", []byte{0x77, 1, 0, 0, 0}, "unknown packet type"},
		{"CONTINUE from client with 3 bytes", []byte{0x03, 1, 0, 0, 0, 1, 2, 3}, "malformed CONTINUE packet"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := loopbackBridge(t)
			withGoodSession(t, b, func(t *testing.T) *rawSession {
				s := dialV1(t, b)
				s.sendRaw(c.msg)
				s.expectSessionClosed(websocket.StatusProtocolError, c.text)
				return s
			})
		})
	}
}

func TestTextFrame(t *testing.T) {
	b := loopbackBridge(t)
	withGoodSession(t, b, func(t *testing.T) *rawSession {
		s := dialV1(t, b)
		ctx, cancel := context.WithTimeout(context.Background(), hang)
		defer cancel()
		if err := s.ws.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
			t.Fatal(err)
		}
		s.expectSessionClosed(websocket.StatusUnsupportedData, "text")
		return s
	})
}

func TestOversizeMessage(t *testing.T) {
	for _, n := range []int{buffer.MaxMessage + 1, buffer.MaxMessage + 2, 1 << 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			b := loopbackBridge(t)
			withGoodSession(t, b, func(t *testing.T) *rawSession {
				s := dialV1(t, b)
				msg := make([]byte, n)
				wisp.PutHeader(msg, wisp.TypeData, 1)
				// The bridge may close before it has read the whole
				// message, so write in the background and ignore the
				// outcome.
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), hang)
					defer cancel()
					s.ws.Write(ctx, websocket.MessageBinary, msg)
				}()
				s.expectSessionClosed(websocket.StatusMessageTooBig, "message longer than")
				wg.Wait()
				return s
			})
		})
	}
}

// The largest message the bridge must take is MaxMessage bytes: a DATA
// packet with a full payload.
func TestLargestMessage(t *testing.T) {
	b := loopbackBridge(t)
	s := dialV1(t, b)
	msg := make([]byte, buffer.MaxMessage)
	wisp.PutHeader(msg, wisp.TypeData, 9)
	s.sendRaw(msg)
	s.expectClose(9, wisp.ReasonUnknownStream)
	s.echo(b)
}

func TestDataToUnknownStream(t *testing.T) {
	b := loopbackBridge(t)
	withGoodSession(t, b, func(t *testing.T) *rawSession {
		s := dialV1(t, b)
		s.data(42, []byte("nobody"))
		s.expectClose(42, wisp.ReasonUnknownStream)
		// The session stays open, and so does a closed stream's ID.
		s.echo(b)
		s.data(1, []byte("after close"))
		s.expectClose(1, wisp.ReasonUnknownStream)
		s.echo(b)
		return s
	})
}

func TestFinToUnknownStream(t *testing.T) {
	b := loopbackBridge(t)
	s := dialV2(t, b, wisp.ExtHalfClose)
	s.send(wisp.Packet{Type: wisp.TypeFin, Stream: 5})
	s.expectClose(5, wisp.ReasonUnknownStream)
	s.echo(b)
}

// A client that sends DATA far beyond its credit, to a destination that
// does not read, loses the stream: the bridge does not queue without
// bound.
func TestCreditExceeded(t *testing.T) {
	b := loopbackBridge(t)
	// A small receive buffer makes the bridge's writes block sooner; the
	// test does not depend on it.
	sink := listen(t, smallReceiveBuffer())
	withGoodSession(t, b, func(t *testing.T) *rawSession {
		s := dialV1(t, b)
		if s.credit != 32 {
			t.Fatalf("credit is %d, want the default 32", s.credit)
		}
		const id = 1
		s.connect(id, sink.addr())
		sink.accept(t) // held open and never read

		// Send without waiting for CONTINUE until the bridge gives up,
		// with a bound far beyond any kernel buffers: 4096 × 64 KiB.
		stop := make(chan struct{})
		var stopOnce sync.Once
		halt := func() { stopOnce.Do(func() { close(stop) }) }
		defer halt()
		sent := make(chan int, 1)
		go func() {
			msg := make([]byte, buffer.MaxMessage)
			wisp.PutHeader(msg, wisp.TypeData, id)
			n := 0
			defer func() { sent <- n }()
			for ; n < 4096; n++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), hang)
				err := s.ws.Write(ctx, websocket.MessageBinary, msg)
				cancel()
				if err != nil {
					return
				}
			}
		}()
		var p wisp.Packet
		for {
			msg, err := s.read()
			if err != nil {
				halt()
				t.Fatalf("session ended before the stream was closed (%d packets sent): %v", <-sent, err)
			}
			if p, err = wisp.Decode(msg); err != nil {
				t.Fatal(err)
			}
			if p.Type == wisp.TypeContinue {
				continue
			}
			break
		}
		halt()
		n := <-sent
		if p.Type != wisp.TypeClose || p.Stream != id || p.Reason != wisp.ReasonCreditExceeded {
			t.Fatalf("got %v on stream %d reason %v, want CLOSE on stream %d with reason %v", p.Type, p.Stream, p.Reason, id, wisp.ReasonCreditExceeded)
		}
		if n <= 2*int(s.credit) {
			t.Fatalf("stream closed after only %d packets; a client may have 2×%d queued", n, s.credit)
		}
		if testing.Verbose() {
			t.Logf("the bridge closed the stream after %d packets", n)
		}
		// Packets still in flight meet a stream that is gone, each
		// answered with a CLOSE; the session itself still works.
		s.connect(2, b.echo.String())
		s.data(2, []byte("still here"))
		var got []byte
		for len(got) < len("still here") {
			p := s.next()
			switch {
			case p.Type == wisp.TypeContinue:
			case p.Type == wisp.TypeClose && p.Stream == id && p.Reason == wisp.ReasonUnknownStream:
			case p.Type == wisp.TypeData && p.Stream == 2:
				got = append(got, p.Data...)
			default:
				t.Fatalf("unexpected %v on stream %d (reason %v)", p.Type, p.Stream, p.Reason)
			}
		}
		if string(got) != "still here" {
			t.Fatalf("echo after the credit violation: %q", got)
		}
		return s
	})
}

// CONNECTs the policy forbids end with ReasonBlocked: loopback that no
// rule names (also by name and in odd spellings), link-local metadata,
// private and IPv6 special addresses.
func TestForbiddenDestination(t *testing.T) {
	// A listener the policy does not allow, so that a connect would
	// succeed if the policy let it through.
	other := listen(t, nil)
	_, otherPort := splitAddr(t, other.addr())
	b := startBridge(t, Config{})
	for _, dest := range []string{
		fmt.Sprintf("127.0.0.1:%d", otherPort),
		fmt.Sprintf("localhost:%d", otherPort),
		fmt.Sprintf("2130706433:%d", otherPort),
		fmt.Sprintf("0x7f.1:%d", otherPort),
		fmt.Sprintf("[::ffff:127.0.0.1]:%d", otherPort),
		fmt.Sprintf("[::1]:%d", otherPort),
		"169.254.169.254:80",
		"10.0.0.1:80",
		"0.0.0.0:80",
		"[fd00::1]:80",
		"[fe80::1%lo]:80",
		// The echo server's address, on a port the rule does not cover.
		fmt.Sprintf("127.0.0.1:%d", b.echo.Port+1),
	} {
		t.Run(dest, func(t *testing.T) {
			withGoodSession(t, b, func(t *testing.T) *rawSession {
				s := dialV1(t, b)
				s.connect(1, dest)
				s.expectClose(1, wisp.ReasonBlocked)
				// The session goes on.
				s.echo(b)
				return s
			})
			other.expectNone(t, "the bridge connected to a forbidden destination")
		})
	}
}

func TestRefusedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	b := loopbackBridge(t)
	withGoodSession(t, b, func(t *testing.T) *rawSession {
		s := dialV1(t, b)
		s.connect(1, closed)
		s.expectClose(1, wisp.ReasonRefused)
		s.echo(b)
		return s
	})
}

func TestUnresolvableHost(t *testing.T) {
	// A resolver with no DNS server at all; the names are under
	// .invalid besides, which never resolves.
	noDNS := &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("this test has no DNS server")
		},
	}
	b := startBridge(t, Config{
		Resolver: noDNS,
		Policy:   Policy{Allow: []Rule{mustRule(t, "*"), mustRule(t, "*.invalid")}},
	})
	withGoodSession(t, b, func(t *testing.T) *rawSession {
		s := dialV1(t, b)
		s.connect(1, "no-such-host.invalid:80")
		s.expectClose(1, wisp.ReasonUnreachable)
		s.echo(b)
		return s
	})
}

// A host that is neither an address nor a name is an invalid CONNECT.
func TestInvalidConnect(t *testing.T) {
	b := loopbackBridge(t)
	for _, c := range []wisp.Connect{
		{StreamType: wisp.StreamTCP, Host: "not a host!", Port: 80},
		{StreamType: wisp.StreamTCP, Host: "", Port: 80},
		{StreamType: wisp.StreamTCP, Host: "127.0.0.1", Port: 0},
		{StreamType: 0x09, Host: "127.0.0.1", Port: uint16(b.echo.Port)},
	} {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			withGoodSession(t, b, func(t *testing.T) *rawSession {
				s := dialV1(t, b)
				s.send(wisp.Packet{Type: wisp.TypeConnect, Stream: 1, Connect: c})
				s.expectClose(1, wisp.ReasonInvalid)
				s.echo(b)
				return s
			})
		})
	}
}

// A CONNECT that reuses the ID of an open stream breaks the protocol.
func TestStreamInUse(t *testing.T) {
	b := loopbackBridge(t)
	withGoodSession(t, b, func(t *testing.T) *rawSession {
		s := dialV1(t, b)
		s.connect(7, b.echo.String())
		s.data(7, []byte("first"))
		if got := s.readData(7, 5); string(got) != "first" {
			t.Fatalf("echo: %q", got)
		}
		s.connect(7, b.echo.String())
		s.expectSessionClosed(websocket.StatusProtocolError, "for stream 7, which is open")
		return s
	})
}

// FIN and WINDOW belong to extensions; without them they break the
// protocol.
func TestExtensionPacketsWithoutExtension(t *testing.T) {
	b := loopbackBridge(t)
	cases := []struct {
		name string
		dial func(t *testing.T) *rawSession
		p    wisp.Packet
		text string
	}{
		{"FIN in v1", func(t *testing.T) *rawSession { return dialV1(t, b) },
			wisp.Packet{Type: wisp.TypeFin, Stream: 1}, "FIN without the half-close extension"},
		{"FIN in v2 without 0xF1", func(t *testing.T) *rawSession { return dialV2(t, b, wisp.ExtOpened) },
			wisp.Packet{Type: wisp.TypeFin, Stream: 1}, "FIN without the half-close extension"},
		{"WINDOW in v1", func(t *testing.T) *rawSession { return dialV1(t, b) },
			wisp.Packet{Type: wisp.TypeWindow, Stream: 1, Credit: 4096}, "WINDOW without the window extension"},
		{"WINDOW in v2 without 0xF0", func(t *testing.T) *rawSession { return dialV2(t, b, wisp.ExtHalfClose) },
			wisp.Packet{Type: wisp.TypeWindow, Stream: 1, Credit: 4096}, "WINDOW without the window extension"},
		{"OPENED from the client", func(t *testing.T) *rawSession { return dialV2(t, b, wisp.ExtOpened) },
			wisp.Packet{Type: wisp.TypeOpened, Stream: 1}, "a client may not send OPENED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			withGoodSession(t, b, func(t *testing.T) *rawSession {
				s := c.dial(t)
				// On an open stream, so that only the missing extension is
				// wrong.
				s.connect(1, b.echo.String())
				s.data(1, []byte("x"))
				s.readData(1, 1)
				s.send(c.p)
				s.expectSessionClosed(websocket.StatusProtocolError, c.text)
				return s
			})
		})
	}
}

// An INFO that comes too late to settle the extensions is ignored: the
// session goes on without them. wisp-js's client can send a CONNECT before
// its INFO.
func TestInfoNotFirst(t *testing.T) {
	b := loopbackBridge(t)
	info := wisp.Packet{Type: wisp.TypeInfo, Info: wisp.Info{Major: 2, Extensions: []wisp.Extension{{ID: wisp.ExtHalfClose}}}}
	cases := []struct {
		name string
		run  func(t *testing.T) *rawSession
	}{
		{"second INFO", func(t *testing.T) *rawSession {
			s := dialV2(t, b)
			s.send(info)
			return s
		}},
		{"INFO after CONNECT", func(t *testing.T) *rawSession {
			s := &rawSession{t: t, ws: dialWS(t, b.url, "wisp-v2"), nextID: 1}
			if p := s.next(); p.Type != wisp.TypeInfo {
				t.Fatalf("bridge sent %v first, want INFO", p.Type)
			}
			s.connect(1, b.echo.String())
			s.send(info)
			s.nextID = 2
			return s
		}},
		{"INFO in v1", func(t *testing.T) *rawSession {
			s := dialV1(t, b)
			s.send(info)
			return s
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			withGoodSession(t, b, func(t *testing.T) *rawSession {
				s := c.run(t)
				s.echo(b)
				// The late INFO asked for half-close; it is not on.
				s.send(wisp.Packet{Type: wisp.TypeFin, Stream: 99})
				s.expectSessionClosed(websocket.StatusProtocolError, "FIN without the half-close extension")
				return s
			})
		})
	}
}

// INFO belongs on stream 0.
func TestInfoOnStream(t *testing.T) {
	b := loopbackBridge(t)
	withGoodSession(t, b, func(t *testing.T) *rawSession {
		s := &rawSession{t: t, ws: dialWS(t, b.url, "wisp-v2"), nextID: 1}
		s.send(wisp.Packet{Type: wisp.TypeInfo, Stream: 3, Info: wisp.Info{Major: 2}})
		s.expectSessionClosed(websocket.StatusProtocolError, "INFO on stream 3")
		return s
	})
}

// A window extension with metadata that is not a window breaks the
// protocol.
func TestBadWindowMetadata(t *testing.T) {
	b := loopbackBridge(t)
	for _, data := range [][]byte{nil, {1, 2, 3}, {0, 0, 0, 0}} {
		withGoodSession(t, b, func(t *testing.T) *rawSession {
			s := &rawSession{t: t, ws: dialWS(t, b.url, "wisp-v2"), nextID: 1}
			s.send(wisp.Packet{Type: wisp.TypeInfo, Info: wisp.Info{Major: 2, Extensions: []wisp.Extension{{ID: wisp.ExtWindow, Data: data}}}})
			s.expectSessionClosed(websocket.StatusProtocolError, "window")
			return s
		})
	}
}

// Packets other than INFO on stream 0 break the protocol.
func TestStreamZero(t *testing.T) {
	b := loopbackBridge(t)
	for _, p := range []wisp.Packet{
		{Type: wisp.TypeData, Data: []byte("x")},
		{Type: wisp.TypeConnect, Connect: wisp.Connect{StreamType: wisp.StreamTCP, Host: "127.0.0.1", Port: 1}},
		{Type: wisp.TypeClose, Reason: wisp.ReasonVoluntary},
	} {
		t.Run(p.Type.String(), func(t *testing.T) {
			withGoodSession(t, b, func(t *testing.T) *rawSession {
				s := dialV1(t, b)
				s.send(p)
				s.expectSessionClosed(websocket.StatusProtocolError, "on stream 0")
				return s
			})
		})
	}
}

// A zone on an IPv6 literal does not slip an address past a deny rule.
func TestDenyRuleSeesThroughZone(t *testing.T) {
	b := startBridge(t, Config{
		Policy:      Policy{Allow: []Rule{mustRule(t, "*")}, Deny: []Rule{mustRule(t, "[2606:4700::/32]")}},
		DialTimeout: 2 * time.Second, // only matters if the bridge dials, which is the failure
	})
	s := dialV1(t, b)
	for i, host := range []string{"2606:4700::1111", "[2606:4700::1111]", "2606:4700::1111%lo", "[2606:4700::1111%lo]"} {
		id := uint32(i + 1)
		s.send(wisp.Packet{Type: wisp.TypeConnect, Stream: id, Connect: wisp.Connect{StreamType: wisp.StreamTCP, Host: host, Port: 443}})
		s.expectClose(id, wisp.ReasonBlocked)
	}
	s.echo(b)
}
