//go:build !js && !wasip1

package bridge

// Graceful shutdown, watched from raw Wisp clients: every stream ends with
// its natural end or a CLOSE(0xD2) before the WebSocket closes with 1001,
// new sessions are refused with 503 while the bridge drains, and what was
// sent before the drain arrives intact.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/wisp"
)

// randomBytes returns n pseudo-random bytes, different for each seed, so
// that a chunk delivered to the wrong stream or twice shows in a checksum.
func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{0: byte(seed), 1: byte(seed >> 8), 2: byte(seed >> 16), 3: byte(seed >> 24)}).Read(b)
	return b
}

// streamLog is what a raw client saw on one stream until its session
// ended.
type streamLog struct {
	data   []byte
	closed bool
	reason wisp.Reason
}

// sessionLog is what a raw client saw on a whole session.
type sessionLog struct {
	streams   map[uint32]*streamLog
	afterEnd  []uint32 // streams that got a packet after their CLOSE
	end       error    // how the WebSocket ended
	badPacket error
}

// collect reads a session until it ends, in a goroutine of its own, and
// reports what came on each stream. The channel delivers once.
func collect(s *rawSession) <-chan *sessionLog {
	out := make(chan *sessionLog, 1)
	go func() {
		l := &sessionLog{streams: map[uint32]*streamLog{}}
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 2*hang)
			_, msg, err := s.ws.Read(ctx)
			cancel()
			if err != nil {
				l.end = err
				out <- l
				return
			}
			p, err := wisp.Decode(msg)
			if err != nil {
				l.badPacket = err
				continue
			}
			if p.Stream == 0 || p.Type == wisp.TypeContinue || p.Type == wisp.TypeOpened {
				continue
			}
			st := l.streams[p.Stream]
			if st == nil {
				st = &streamLog{}
				l.streams[p.Stream] = st
			}
			if st.closed {
				l.afterEnd = append(l.afterEnd, p.Stream)
			}
			switch p.Type {
			case wisp.TypeData:
				st.data = append(st.data, p.Data...)
			case wisp.TypeClose:
				st.closed, st.reason = true, p.Reason
			}
		}
	}()
	return out
}

// sendStream sends data on a stream in DATA packets of at most 64 KiB.
func (s *rawSession) sendStream(id uint32, data []byte) {
	s.t.Helper()
	for len(data) > 0 {
		n := min(len(data), buffer.MaxPayload)
		s.data(id, data[:n])
		data = data[n:]
	}
}

// received is what a destination read on one connection, and how the
// read ended.
type received struct {
	sum [sha256.Size]byte
	n   int
	err error
}

// readN reads n bytes from c and reports their checksum.
func readN(c net.Conn, n int) received {
	c.SetReadDeadline(time.Now().Add(2 * hang))
	h := sha256.New()
	m, err := io.CopyN(h, c, int64(n))
	c.SetReadDeadline(time.Time{})
	var r received
	r.n, r.err = int(m), err
	copy(r.sum[:], h.Sum(nil))
	return r
}

func TestShutdownDrains(t *testing.T) {
	b := loopbackBridge(t)
	finishing := listen(t, nil) // destinations that answer, then close
	holding := listen(t, nil)   // destinations that stay open

	// The client sends each stream 20 packets of 64 KiB (within the credit
	// of 32) and the bridge is told to drain at once, so that most of it
	// is still queued in the bridge or in flight when the drain begins.
	const upBytes = 20 * buffer.MaxPayload
	const downBytes = 300 << 10
	type streamCase struct {
		s       *rawSession
		id      uint32
		finish  bool
		up      []byte
		down    []byte
		arrived chan received
		conn    chan *net.TCPConn
	}
	// Session a has streams that finish and streams that are held, bb the
	// same with half-close, cc one stream that finishes (its CLOSE is the
	// last packet before the session's end), and empty has none.
	a, bb := dialV2(t, b, wisp.ExtOpened), dialV2(t, b, wisp.ExtOpened, wisp.ExtHalfClose)
	cc, empty := dialV2(t, b, wisp.ExtOpened), dialV2(t, b, wisp.ExtOpened)
	logs := map[*rawSession]<-chan *sessionLog{a: collect(a), bb: collect(bb), cc: collect(cc), empty: collect(empty)}

	var cases []*streamCase
	for i, sc := range []struct {
		s      *rawSession
		finish bool
	}{{a, true}, {a, false}, {a, true}, {a, false}, {bb, true}, {bb, false}, {bb, true}, {bb, false}, {cc, true}} {
		cases = append(cases, &streamCase{
			s: sc.s, id: uint32(1 + i), finish: sc.finish,
			up:      randomBytes(uint64(100+i), upBytes),
			down:    randomBytes(uint64(200+i), downBytes),
			arrived: make(chan received, 1), conn: make(chan *net.TCPConn, 1),
		})
	}
	// Connect each stream and let its destination read what the client
	// sends. The destinations are matched to streams by the first bytes,
	// which are different for every stream.
	for _, c := range cases {
		dest := holding
		if c.finish {
			dest = finishing
		}
		c.s.connect(c.id, dest.addr())
		conn := dest.accept(t)
		c.s.sendStream(c.id, c.up)
		go func() {
			c.arrived <- readN(conn, len(c.up))
			c.conn <- conn
		}()
	}

	drained := make(chan error, 1)
	cut, cutNow := context.WithCancel(context.Background())
	defer cutNow()
	go func() { drained <- b.h.Shutdown(cut) }()
	waitFor(t, "the bridge to begin draining", func() bool { return b.h.draining.Load() })

	// A new session is refused while the bridge drains.
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	_, resp, err := websocket.Dial(ctx, b.url, &websocket.DialOptions{Subprotocols: []string{"wisp-v2"}})
	cancel()
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("a new session during the drain: %v, HTTP status %d; want 503", err, status)
	}
	// A new stream on a session that drains is refused with 0xD2.
	a.connect(99, finishing.addr())

	// Everything sent before the drain reaches its destination intact.
	for _, c := range cases {
		r := <-c.arrived
		if r.err != nil || r.sum != sha256.Sum256(c.up) {
			t.Fatalf("stream %d: the destination read %d of %d bytes (%v), checksum equal: %v",
				c.id, r.n, len(c.up), r.err, r.sum == sha256.Sum256(c.up))
		}
	}
	// The finishing destinations answer and close: their streams end
	// naturally while the bridge drains.
	for _, c := range cases {
		conn := <-c.conn
		if c.finish {
			if _, err := conn.Write(c.down); err != nil {
				t.Fatalf("stream %d: destination write: %v", c.id, err)
			}
			conn.Close()
			c.conn <- nil
		} else {
			c.conn <- conn
		}
	}
	// The finishing streams' data and CLOSE reach the clients before the
	// held streams are cut: bb has half-close, and its streams end with
	// FIN and stay open on the client's side until it sends FIN too.
	for _, c := range cases {
		if c.finish && c.s == bb {
			c.s.send(wisp.Packet{Type: wisp.TypeFin, Stream: c.id})
		}
	}
	select {
	case err := <-drained:
		t.Fatalf("Shutdown returned %v while streams were still open", err)
	default:
	}

	// The session without streams has closed already, with 1001.
	if l := <-logs[empty]; websocket.CloseStatus(l.end) != websocket.StatusGoingAway {
		t.Fatalf("session without streams ended with %v, want status 1001", l.end)
	}
	// So has cc, once its only stream finished: before the pending cut.
	got := map[*rawSession]*sessionLog{cc: <-logs[cc]}

	// At the deadline the held streams are cut, each with a CLOSE.
	waitFor(t, "the finishing streams to end", func() bool {
		return b.h.Stats().Streams == int64(countIf(cases, func(c *streamCase) bool { return !c.finish }))
	})
	cutNow()
	select {
	case err := <-drained:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Shutdown returned %v, want context.Canceled (streams were cut)", err)
		}
	case <-time.After(2 * hang):
		t.Fatal("Shutdown did not return after its context ended")
	}

	got[a], got[bb] = <-logs[a], <-logs[bb]
	for _, s := range []*rawSession{a, bb, cc} {
		l := got[s]
		if websocket.CloseStatus(l.end) != websocket.StatusGoingAway {
			t.Errorf("session ended with %v, want status 1001", l.end)
		}
		if l.badPacket != nil || len(l.afterEnd) > 0 {
			t.Errorf("bad packet %v; packets after CLOSE on streams %v", l.badPacket, l.afterEnd)
		}
		for _, c := range cases {
			if c.s != s {
				continue
			}
			st := l.streams[c.id]
			if st == nil || !st.closed {
				t.Errorf("stream %d (finishing %v) got no CLOSE before the WebSocket closed", c.id, c.finish)
				continue
			}
			switch {
			case c.finish && st.reason != wisp.ReasonVoluntary:
				t.Errorf("finishing stream %d closed with %v, want voluntary", c.id, st.reason)
			case c.finish && !bytes.Equal(st.data, c.down):
				t.Errorf("finishing stream %d: client got %d of %d bytes, equal %v", c.id, len(st.data), len(c.down), bytes.Equal(st.data, c.down))
			case !c.finish && st.reason != wisp.ReasonShutdown:
				t.Errorf("held stream %d closed with %v, want 0xD2 (shutdown)", c.id, st.reason)
			}
		}
		if s == a {
			if st := l.streams[99]; st == nil || st.reason != wisp.ReasonShutdown {
				t.Errorf("a CONNECT during the drain: %+v, want CLOSE(0xD2)", st)
			}
		}
	}
	// The held destinations were reset, as Shutdown promises.
	for _, c := range cases {
		if conn := <-c.conn; conn != nil {
			expectReset(t, conn)
		}
	}
	b.waitIdle(t)
}

func countIf[T any](xs []T, f func(T) bool) int {
	n := 0
	for _, x := range xs {
		if f(x) {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds, failing the test on a hang.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestShutdownWaitsForLookups: a draining session with a lookup in
// progress and no stream answers the lookup before it closes.
func TestShutdownWaitsForLookups(t *testing.T) {
	dns := startDNS(t)
	dns.set("slow.test", "93.184.216.34") // a public address, which the answer may show
	release := dns.hold("slow.test")
	defer release()
	b := startBridge(t, Config{Resolver: dns.resolver(), Policy: Policy{Allow: []Rule{mustRule(t, "*")}}})
	s := dialV2(t, b, wisp.ExtResolve)
	s.send(wisp.Packet{Type: wisp.TypeResolve, Stream: 1, Query: wisp.Query{Type: wisp.QueryIP, Name: "slow.test"}})
	for name := range dns.asked {
		if name == "slow.test" {
			break
		}
	}

	drained := make(chan error, 1)
	go func() { drained <- b.h.Shutdown(context.Background()) }()
	waitFor(t, "the bridge to begin draining", func() bool { return b.h.draining.Load() })
	release()
	if p := s.nextOn(1); p.Type != wisp.TypeResolved || p.Answer.Status != wisp.StatusOK {
		t.Fatalf("the lookup in progress during the drain: got %v %+v, want its RESOLVED", p.Type, p.Answer)
	}
	s.expectSessionClosed(websocket.StatusGoingAway, "wasmnet: bridge shutting down")
	if err := <-drained; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}
