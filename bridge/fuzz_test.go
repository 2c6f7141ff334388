//go:build !js && !wasip1

package bridge

// FuzzSession drives the bridge's session state machine with arbitrary
// sequences of packets over a real WebSocket, and checks what must hold
// whatever a client sends: the bridge does not panic, sends only
// well-formed packets, leaks no goroutine, holds no buffered byte and no
// stream once the session is over, and another session open all along
// still relays.
//
// The input is a real WebSocket per input, not an in-memory wire: on
// loopback a session costs about a millisecond, which leaves the fuzzer
// hundreds of inputs a second per worker, and the WebSocket path (framing,
// read limits, closing handshakes, the batching conn) is what a hostile
// client actually reaches.
//
//	go test -run '^$' -fuzz '^FuzzSession$' -fuzztime 5m ./bridge/

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/services"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
	"github.com/wasmnet/wasmnet/wisp"
)

// The fuzz input: one flags byte, then messages, each a u16 LE length and
// that many bytes, sent as one binary WebSocket message. An empty message
// is not sent: it makes the client pause, so that dials can finish and
// destinations answer before the next packet. A truncated last message is
// ignored.
const (
	fuzzV2        = 1 << 0 // offer "wisp-v2"; otherwise the session is Wisp v1
	fuzzHandshake = 1 << 1 // end with a closing handshake; otherwise drop the connection
)

// fuzzHost in a CONNECT names one of the fuzz destinations by its port
// (modulo their number): random ports on loopback would almost never
// reach a server.
const fuzzHost = "d"

// fuzzPause is how long an empty message pauses the client. It only gives
// the bridge time to reach more of its states; nothing is timed. Past
// maxPauses in one input, empty messages are skipped, so that an input
// full of them cannot take seconds.
const (
	fuzzPause = 2 * time.Millisecond
	maxPauses = 10
)

// fuzzEnv is what every input of one fuzzing process runs against: a
// bridge, destinations on loopback, and a session that stays open.
type fuzzEnv struct {
	h     *Handler
	url   string
	dests []uint16 // ports on 127.0.0.1

	good      net.Conn // a stream of the session that stays open, to the echo server
	goodStats Stats    // what the bridge holds between inputs
	baseline  int      // goroutines as an input begins, taken from the first
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	e := &fuzzEnv{}
	var servers []io.Closer
	f.Cleanup(func() {
		for _, s := range servers {
			s.Close()
		}
	})
	add := func(s io.Closer, addr net.Addr) {
		servers = append(servers, s)
		e.dests = append(e.dests, uint16(addr.(*net.TCPAddr).Port))
	}
	echo, err := services.Echo("127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	add(echo, echo.Addr())
	for _, handle := range []func(*net.TCPConn){
		func(c *net.TCPConn) { c.Write(make([]byte, 300<<10)) }, // a burst, then the end
		func(c *net.TCPConn) { c.SetLinger(0) },                 // a reset at once
		func(c *net.TCPConn) { io.Copy(io.Discard, c) },         // takes all, says nothing
	} {
		s, err := services.Serve("127.0.0.1:0", func(_ *services.Server, c net.Conn) { handle(c.(*net.TCPConn)) })
		if err != nil {
			f.Fatal(err)
		}
		add(s, s.Addr())
	}

	// Names resolve from /etc/hosts only: a lookup never leaves the
	// machine.
	noDNS := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("fuzzing: no DNS")
	}}
	rule, err := ParseRule("127.0.0.1/32")
	if err != nil {
		f.Fatal(err)
	}
	e.h = NewHandler(Config{
		Policy:   Policy{Allow: []Rule{rule}},
		Resolver: noDNS,
		Listen:   &ListenConfig{Endpoints: true},
		Logger:   slog.New(slog.DiscardHandler),
	})
	e.h.socketGuard = loopbackOnly
	srv := httptest.NewServer(e.h)
	f.Cleanup(func() {
		srv.Close()
		e.h.Close()
	})
	e.url = "ws" + strings.TrimPrefix(srv.URL, "http") + "/"

	d := &wasmnet.Dialer{Bridge: e.url, Timeout: hang}
	f.Cleanup(func() { d.Close() })
	if e.good, err = d.Dial("tcp", echo.Addr().String()); err != nil {
		f.Fatal(err)
	}
	if err := e.roundTrip(); err != nil {
		f.Fatal(err)
	}
	e.goodStats = Stats{Sessions: 1, Streams: 1}
	if err := waitUntil(func() bool { return e.h.Stats() == e.goodStats }); err != nil {
		f.Fatalf("before fuzzing, the bridge holds %+v", e.h.Stats())
	}
	return e
}

// roundTrip checks that the session open all along still relays.
func (e *fuzzEnv) roundTrip() error {
	e.good.SetDeadline(time.Now().Add(hang))
	defer e.good.SetDeadline(time.Time{})
	msg := []byte("the other session still works")
	if _, err := e.good.Write(msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(e.good, got); err != nil {
		return err
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("echo returned %q", got)
	}
	return nil
}

func FuzzSession(f *testing.F) {
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, input []byte) {
		e.run(t, input)
	})
}

// run plays one input as a session, then checks the bridge is back where
// it was.
func (e *fuzzEnv) run(t *testing.T, input []byte) {
	if e.baseline == 0 {
		// Inside the fuzz function: its own goroutine counts.
		e.baseline = runtime.NumGoroutine()
	}
	if len(input) == 0 {
		return
	}
	flags, msgs := input[0], splitMessages(input[1:])

	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	var protocols []string
	if flags&fuzzV2 != 0 {
		protocols = []string{"wisp-v2"}
	}
	ws, _, err := websocket.Dial(ctx, e.url, &websocket.DialOptions{Subprotocols: protocols})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(-1)

	// Read everything the bridge sends, so that it never waits on this
	// client, and check that it is well formed.
	var bad error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			typ, msg, err := ws.Read(ctx)
			if err != nil {
				return
			}
			if _, derr := wisp.Decode(msg); typ != websocket.MessageBinary || derr != nil {
				bad = fmt.Errorf("the bridge sent a bad %v message %x: %v", typ, msg, derr)
			}
		}
	}()

	pauses := 0
	for _, m := range msgs {
		if len(m) == 0 {
			if pauses++; pauses <= maxPauses {
				time.Sleep(fuzzPause)
			}
			continue
		}
		if ws.Write(ctx, websocket.MessageBinary, e.rewrite(m)) != nil {
			break // the bridge ended the session
		}
	}
	if flags&fuzzHandshake != 0 {
		ws.Close(websocket.StatusNormalClosure, "")
	}
	ws.CloseNow()
	wg.Wait()
	if bad != nil {
		t.Fatal(bad)
	}

	if err := waitUntil(func() bool { return e.h.Stats() == e.goodStats }); err != nil {
		t.Fatalf("after the session, the bridge holds %+v, want %+v", e.h.Stats(), e.goodStats)
	}
	if err := waitUntil(func() bool { return runtime.NumGoroutine() <= e.baseline }); err != nil {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after the session, %d before:\n%s", runtime.NumGoroutine(), e.baseline, buf[:runtime.Stack(buf, true)])
	}
	if err := e.roundTrip(); err != nil {
		t.Fatalf("the other session: %v", err)
	}
}

// rewrite points a CONNECT to fuzzHost at one of the destinations.
func (e *fuzzEnv) rewrite(msg []byte) []byte {
	p, err := wisp.Decode(msg)
	if err != nil || p.Type != wisp.TypeConnect || p.Connect.Host != fuzzHost {
		return msg
	}
	p.Connect.Host = "127.0.0.1"
	p.Connect.Port = e.dests[int(p.Connect.Port)%len(e.dests)]
	return p.Append(nil)
}

func splitMessages(b []byte) [][]byte {
	var msgs [][]byte
	for len(b) >= 2 {
		n := int(binary.LittleEndian.Uint16(b))
		if len(b) < 2+n {
			break
		}
		msgs = append(msgs, b[2:2+n])
		b = b[2+n:]
	}
	return msgs
}

// fuzzHang bounds the waits of an input. It is a hang guard, shorter than
// hang so that the fuzzing engine, which minimizes a failing input by
// running it again and again within a minute, gets to do so.
const fuzzHang = 5 * time.Second

// waitUntil polls cond until it holds, or gives up after fuzzHang.
func waitUntil(cond func() bool) error {
	deadline := time.Now().Add(fuzzHang)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// The seed corpus, testdata/fuzz/FuzzSession, is written from the seeds
// below, so that they stay readable as packets:
//
//	WASMNET_WRITE_CORPUS=1 go test -run '^TestFuzzSessionCorpus$' ./bridge/
const sessionCorpus = "testdata/fuzz/FuzzSession"

// fuzzSeed builds an input from packets; a nil packet is a pause.
func fuzzSeed(flags byte, packets ...[]byte) []byte {
	out := []byte{flags}
	for _, p := range packets {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(p)))
		out = append(out, p...)
	}
	return out
}

func sessionSeeds() map[string][]byte {
	pk := func(p wisp.Packet) []byte { return p.Append(nil) }
	info := func(exts ...wisp.ExtID) []byte {
		i := wisp.Info{Major: 2}
		for _, id := range exts {
			e := wisp.Extension{ID: id}
			if id == wisp.ExtWindow {
				e.Data = wisp.WindowData(64 << 10)
			}
			i.Extensions = append(i.Extensions, e)
		}
		return pk(wisp.Packet{Type: wisp.TypeInfo, Info: i})
	}
	all := info(wisp.ExtWindow, wisp.ExtHalfClose, wisp.ExtOpened, wisp.ExtUDP, wisp.ExtListen, wisp.ExtResolve)
	connect := func(id uint32, typ wisp.StreamType, host string, port uint16) []byte {
		return pk(wisp.Packet{Type: wisp.TypeConnect, Stream: id, Connect: wisp.Connect{StreamType: typ, Host: host, Port: port}})
	}
	data := func(id uint32, s string) []byte {
		return pk(wisp.Packet{Type: wisp.TypeData, Stream: id, Data: []byte(s)})
	}
	closeP := func(id uint32, r wisp.Reason) []byte {
		return pk(wisp.Packet{Type: wisp.TypeClose, Stream: id, Reason: r})
	}
	fin := func(id uint32) []byte { return pk(wisp.Packet{Type: wisp.TypeFin, Stream: id}) }
	window := func(id, n uint32) []byte { return pk(wisp.Packet{Type: wisp.TypeWindow, Stream: id, Credit: n}) }
	listenP := func(id uint32, host string, port uint16) []byte {
		return pk(wisp.Packet{Type: wisp.TypeListen, Stream: id, Connect: wisp.Connect{StreamType: wisp.StreamTCP, Host: host, Port: port}})
	}
	resolve := func(id uint32, typ wisp.QueryType, name string) []byte {
		return pk(wisp.Packet{Type: wisp.TypeResolve, Stream: id, Query: wisp.Query{Type: typ, Name: name}})
	}
	var burst [][]byte
	burst = append(burst, all, connect(1, wisp.StreamTCP, fuzzHost, 3))
	for range 40 { // beyond the credit of 32, sent before the connect completes
		burst = append(burst, data(1, strings.Repeat("x", 1000)))
	}

	return map[string][]byte{
		"echo-v1":           fuzzSeed(0, connect(1, wisp.StreamTCP, fuzzHost, 0), data(1, "hello"), nil, closeP(1, wisp.ReasonVoluntary)),
		"echo-v2-all":       fuzzSeed(fuzzV2|fuzzHandshake, all, connect(1, wisp.StreamTCP, fuzzHost, 0), data(1, "hello"), nil, window(1, 5), fin(1), nil),
		"burst-window":      fuzzSeed(fuzzV2, all, connect(2, wisp.StreamTCP, fuzzHost, 1), nil, window(2, 64<<10), nil, window(2, 1<<30), nil),
		"burst-no-window":   fuzzSeed(fuzzV2, info(wisp.ExtOpened), connect(2, wisp.StreamTCP, fuzzHost, 1), nil, nil),
		"reset":             fuzzSeed(fuzzV2, all, connect(3, wisp.StreamTCP, fuzzHost, 2), nil, data(3, "late"), fin(3)),
		"credit-exceeded":   fuzzSeed(fuzzV2, burst...),
		"close-reset-early": fuzzSeed(fuzzV2, all, connect(4, wisp.StreamTCP, fuzzHost, 3), closeP(4, wisp.ReasonNetworkError), connect(4, wisp.StreamTCP, fuzzHost, 0)),
		"reuse-open-id":     fuzzSeed(fuzzV2, all, connect(5, wisp.StreamTCP, fuzzHost, 0), connect(5, wisp.StreamTCP, fuzzHost, 0)),
		"udp":               fuzzSeed(fuzzV2, all, connect(6, wisp.StreamUDP, "127.0.0.1", 9), data(6, "datagram"), nil, closeP(6, wisp.ReasonVoluntary)),
		"listen-and-dial": fuzzSeed(fuzzV2|fuzzHandshake, all, listenP(7, "chat.wasmnet.internal", 80),
			connect(8, wisp.StreamTCP, "chat.wasmnet.internal", 80), nil, data(8, "to myself"), nil,
			closeP(7, wisp.ReasonVoluntary)),
		"listen-public-refused": fuzzSeed(fuzzV2, all, listenP(9, "", 0)),
		"resolve":               fuzzSeed(fuzzV2, all, resolve(10, wisp.QueryIP, "localhost"), resolve(11, wisp.QueryMX, "example.com"), nil),
		"unknown-stream":        fuzzSeed(fuzzV2, all, data(12, "nobody"), fin(13), window(14, 1), closeP(15, wisp.ReasonVoluntary)),
		"no-extensions":         fuzzSeed(fuzzV2, info(), fin(1)),
		"info-late":             fuzzSeed(fuzzV2, connect(1, wisp.StreamTCP, fuzzHost, 0), all),
		"info-on-stream":        fuzzSeed(fuzzV2, []byte{0x05, 1, 0, 0, 0, 2, 0}),
		"stream-0":              fuzzSeed(fuzzV2, all, data(0, "x")),
		"malformed":             fuzzSeed(fuzzV2, all, []byte{0x04, 1, 0, 0, 0}),
		"bridge-ids":            fuzzSeed(fuzzV2, all, connect(1<<31, wisp.StreamTCP, fuzzHost, 0)),
		"bad-window":            fuzzSeed(fuzzV2, []byte{0x05, 0, 0, 0, 0, 2, 0, 0xf0, 4, 0, 0, 0, 0, 0, 0, 0}),
	}
}

// TestFuzzSessionCorpus keeps the committed seed corpus in step with
// sessionSeeds; WASMNET_WRITE_CORPUS=1 rewrites it. Files the fuzzer
// found are kept beside the seeds and left alone.
func TestFuzzSessionCorpus(t *testing.T) {
	write := os.Getenv("WASMNET_WRITE_CORPUS") == "1"
	for name, input := range sessionSeeds() {
		path := filepath.Join(sessionCorpus, "seed-"+name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", input)
		if write {
			if err := os.MkdirAll(sessionCorpus, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s is missing or stale (%v): run WASMNET_WRITE_CORPUS=1 go test -run '^TestFuzzSessionCorpus$' ./bridge/", path, err)
		}
	}
}
