//go:build !js && !wasip1

package bridge

// A raw Wisp client for the bridge's tests: hand-built packets over a
// github.com/coder/websocket connection to a real bridge, so that the
// tests can send what no well-behaved client would.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/services"
	"github.com/wasmnet/wasmnet/wisp"
)

// hang bounds every wait in these tests. It only detects hangs; nothing
// here asserts how fast the bridge is.
const hang = 10 * time.Second

// testBridge is a bridge on an httptest server, with an echo server on
// loopback that its policy allows.
type testBridge struct {
	h    *Handler
	url  string
	echo *net.TCPAddr
}

// startBridge starts a bridge configured by cfg and an echo server. The
// echo server's port on 127.0.0.1 is added to the allow rules, so that a
// good session can always make a round trip, whatever else cfg forbids.
func startBridge(t *testing.T, cfg Config) *testBridge {
	t.Helper()
	echo, err := services.Echo("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Close() })
	cfg.Policy.Allow = append(cfg.Policy.Allow, mustRule(t, fmt.Sprintf("127.0.0.1/32:%d", echo.Addr().Port)))

	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testLog{t}, nil))
	}
	h := NewHandler(cfg)
	h.socketGuard = loopbackOnly
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	return &testBridge{h: h, url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/", echo: echo.Addr()}
}

// loopbackOnly keeps the tests' packets on this machine: a destination
// the policy lets through off loopback fails as unreachable, at once,
// instead of being sent a SYN.
func loopbackOnly(_ string, addr netip.AddrPort) error {
	if ip := addr.Addr().Unmap(); ip.IsLoopback() || ip.IsUnspecified() { // 0.0.0.0 is this host
		return nil
	}
	return os.NewSyscallError("connect", syscall.EHOSTUNREACH)
}

// loopbackBridge starts a bridge whose policy allows all of 127.0.0.1.
func loopbackBridge(t *testing.T) *testBridge {
	t.Helper()
	return startBridge(t, Config{Policy: Policy{Allow: []Rule{mustRule(t, "127.0.0.1/32")}}})
}

func mustRule(t testing.TB, s string) Rule {
	t.Helper()
	r, err := ParseRule(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// waitIdle waits until the bridge holds no sessions, streams or buffered
// bytes: nothing leaked.
func (b *testBridge) waitIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for {
		st := b.h.Stats()
		if st == (Stats{}) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bridge still holds %+v after every session closed", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rawSession is one WebSocket to the bridge, spoken to packet by packet.
type rawSession struct {
	t      *testing.T
	ws     *websocket.Conn
	info   *wisp.Info // the bridge's INFO, in v2
	credit uint32     // from the CONTINUE on stream 0
	nextID uint32
}

// dialWS opens a WebSocket to the bridge, offering the subprotocols.
func dialWS(t *testing.T, url string, subprotocols ...string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: subprotocols})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	ws.SetReadLimit(-1) // the tests judge sizes themselves
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// dialV1 opens a session without a subprotocol and reads the handshake:
// just CONTINUE on stream 0.
func dialV1(t *testing.T, b *testBridge) *rawSession {
	t.Helper()
	s := &rawSession{t: t, ws: dialWS(t, b.url), nextID: 1}
	p := s.next()
	if p.Type != wisp.TypeContinue || p.Stream != 0 {
		t.Fatalf("v1 handshake: first packet is %v on stream %d, want CONTINUE on stream 0", p.Type, p.Stream)
	}
	s.credit = p.Credit
	return s
}

// dialV2 opens a "wisp-v2" session, reads the bridge's INFO, answers
// with an INFO listing exts, and reads the CONTINUE on stream 0.
func dialV2(t *testing.T, b *testBridge, exts ...wisp.ExtID) *rawSession {
	t.Helper()
	s := &rawSession{t: t, ws: dialWS(t, b.url, "wisp-v2"), nextID: 1}
	p := s.next()
	if p.Type != wisp.TypeInfo || p.Stream != 0 {
		t.Fatalf("v2 handshake: first packet is %v on stream %d, want INFO on stream 0", p.Type, p.Stream)
	}
	info0 := p.Info // p is reused below
	s.info = &info0
	info := wisp.Info{Major: wisp.VersionMajor, Minor: wisp.VersionMinor}
	for _, id := range exts {
		info.Extensions = append(info.Extensions, wisp.Extension{ID: id})
	}
	s.send(wisp.Packet{Type: wisp.TypeInfo, Info: info})
	p = s.next()
	if p.Type != wisp.TypeContinue || p.Stream != 0 {
		t.Fatalf("v2 handshake: second packet is %v on stream %d, want CONTINUE on stream 0", p.Type, p.Stream)
	}
	s.credit = p.Credit
	return s
}

// sendRaw sends one binary message as it is.
func (s *rawSession) sendRaw(msg []byte) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	if err := s.ws.Write(ctx, websocket.MessageBinary, msg); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

// send encodes and sends a packet.
func (s *rawSession) send(p wisp.Packet) {
	s.t.Helper()
	s.sendRaw(p.Append(nil))
}

func (s *rawSession) connect(id uint32, addr string) {
	s.t.Helper()
	host, port := splitAddr(s.t, addr)
	s.send(wisp.Packet{Type: wisp.TypeConnect, Stream: id, Connect: wisp.Connect{StreamType: wisp.StreamTCP, Host: host, Port: port}})
}

func (s *rawSession) data(id uint32, b []byte) {
	s.t.Helper()
	s.send(wisp.Packet{Type: wisp.TypeData, Stream: id, Data: b})
}

func (s *rawSession) close(id uint32, r wisp.Reason) {
	s.t.Helper()
	s.send(wisp.Packet{Type: wisp.TypeClose, Stream: id, Reason: r})
}

// read returns the next message, or the error that ended the session.
func (s *rawSession) read() ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	typ, msg, err := s.ws.Read(ctx)
	if err == nil && typ != websocket.MessageBinary {
		return nil, fmt.Errorf("bridge sent a %v message", typ)
	}
	return msg, err
}

// next returns the next packet from the bridge.
func (s *rawSession) next() wisp.Packet {
	s.t.Helper()
	msg, err := s.read()
	if err != nil {
		s.t.Fatalf("reading the next packet: %v", err)
	}
	p, err := wisp.Decode(msg)
	if err != nil {
		s.t.Fatalf("the bridge sent a bad packet: %v", err)
	}
	return p
}

// nextOn returns the next packet on stream id other than CONTINUE. Packets
// on other streams must be CONTINUE too; anything else fails the test.
func (s *rawSession) nextOn(id uint32) wisp.Packet {
	s.t.Helper()
	for {
		p := s.next()
		if p.Type == wisp.TypeContinue {
			continue
		}
		if p.Stream != id {
			s.t.Fatalf("unexpected %v (reason %v) on stream %d while waiting on stream %d", p.Type, p.Reason, p.Stream, id)
		}
		return p
	}
}

// expectClose reads until a CLOSE on stream id, which must carry want.
func (s *rawSession) expectClose(id uint32, want wisp.Reason) {
	s.t.Helper()
	p := s.nextOn(id)
	if p.Type != wisp.TypeClose {
		s.t.Fatalf("stream %d: got %v, want CLOSE (%v)", id, p.Type, want)
	}
	if p.Reason != want {
		s.t.Fatalf("stream %d: CLOSE reason is 0x%02x (%v), want 0x%02x (%v)", id, uint8(p.Reason), p.Reason, uint8(want), want)
	}
}

// readData reads DATA on stream id until n bytes have come. It passes
// over OPENED.
func (s *rawSession) readData(id uint32, n int) []byte {
	s.t.Helper()
	var got []byte
	for len(got) < n {
		p := s.nextOn(id)
		if p.Type == wisp.TypeOpened {
			continue
		}
		if p.Type != wisp.TypeData {
			s.t.Fatalf("stream %d: got %v (reason %v) after %d of %d bytes, want DATA", id, p.Type, p.Reason, len(got), n)
		}
		got = append(got, p.Data...)
	}
	return got
}

// echo makes a round trip through a fresh stream to the echo server and
// closes the stream: the session works.
func (s *rawSession) echo(b *testBridge) {
	s.t.Helper()
	id := s.nextID
	s.nextID++
	s.connect(id, b.echo.String())
	msg := []byte(fmt.Sprintf("ping on stream %d", id))
	s.data(id, msg)
	if got := s.readData(id, len(msg)); !bytes.Equal(got, msg) {
		s.t.Fatalf("echo: got %q, want %q", got, msg)
	}
	s.close(id, wisp.ReasonVoluntary)
}

// expectSessionClosed reads until the session ends and checks that the
// bridge closed the WebSocket with code and a reason containing text.
func (s *rawSession) expectSessionClosed(code websocket.StatusCode, text string) {
	s.t.Helper()
	var err error
	for err == nil {
		_, err = s.read()
	}
	if got := websocket.CloseStatus(err); got != code {
		s.t.Fatalf("session ended with %v (status %d), want status %d (%v)", err, got, code, code)
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		s.t.Fatalf("session ended with %T %v, want a websocket.CloseError", err, err)
	}
	if !strings.Contains(ce.Reason, text) {
		s.t.Fatalf("close reason is %q, want it to mention %q", ce.Reason, text)
	}
}

func splitAddr(t testing.TB, addr string) (string, uint16) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	var p uint16
	if _, err := fmt.Sscan(port, &p); err != nil {
		t.Fatal(err)
	}
	return host, p
}

// destination is a TCP listener on loopback whose connections the test
// handles itself.
type destination struct {
	ln    *net.TCPListener
	conns chan *net.TCPConn
}

// listen starts a destination. Its connections are closed when the test
// ends. lc may set socket options.
func listen(t *testing.T, lc *net.ListenConfig) *destination {
	t.Helper()
	if lc == nil {
		lc = &net.ListenConfig{}
	}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &destination{ln: ln.(*net.TCPListener), conns: make(chan *net.TCPConn, 16)}
	var mu sync.Mutex
	var all []net.Conn
	done := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := d.ln.AcceptTCP()
			if err != nil {
				return
			}
			mu.Lock()
			all = append(all, c)
			mu.Unlock()
			// A test need not take every connection; one it leaves
			// must not keep the cleanup waiting.
			select {
			case d.conns <- c:
			case <-stop:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		d.ln.Close()
		<-done
		mu.Lock()
		for _, c := range all {
			c.Close()
		}
		mu.Unlock()
	})
	return d
}

func (d *destination) addr() string { return d.ln.Addr().String() }

// accept returns the next connection the bridge made.
func (d *destination) accept(t *testing.T) *net.TCPConn {
	t.Helper()
	select {
	case c := <-d.conns:
		return c
	case <-time.After(hang):
		t.Fatal("the bridge never connected to the destination")
		return nil
	}
}

// expectNone fails the test if the bridge has connected to the destination
// so far. A look at conns alone could miss a connection the listener has
// queued and not yet accepted, so it connects itself and takes
// connections until its own: the kernel's accept queue keeps their order,
// so any connection made earlier comes first.
func (d *destination) expectNone(t *testing.T, what string) {
	t.Helper()
	marker, err := net.Dial("tcp", d.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer marker.Close()
	for {
		c := d.accept(t)
		if c.RemoteAddr().String() == marker.LocalAddr().String() {
			return
		}
		t.Errorf("%s: a connection from %v", what, c.RemoteAddr())
	}
}

// testLog sends the bridge's log to the test's log, shown when it fails.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
