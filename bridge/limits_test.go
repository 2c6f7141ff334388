//go:build !js && !wasip1

package bridge

// The bridge's limits: each is hit on purpose, with values small enough
// to hit fast, and the test checks what the client is told, that the hit
// is counted in wasmnet_bridge_limit_hits_total, and that another session
// on the same bridge goes on working.

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/wisp"
)

// dialFrom opens a v2 WebSocket with an X-Forwarded-For header (none if
// empty), as a reverse proxy would forward it.
func dialFrom(t *testing.T, b *testBridge, xff string) *websocket.Conn {
	t.Helper()
	hdr := http.Header{}
	if xff != "" {
		hdr.Set("X-Forwarded-For", xff)
	}
	ws, _, err := dialOpts(t, b.url, &websocket.DialOptions{Subprotocols: []string{"wisp-v2"}, HTTPHeader: hdr})
	if err != nil {
		t.Fatalf("dial (X-Forwarded-For %q): %v", xff, err)
	}
	return ws
}

// admitted reports whether a session opened on ws: the bridge sent its
// INFO. A session refused for a limit is closed with CloseTooManySessions
// and a reason naming the limit.
func admitted(t *testing.T, ws *websocket.Conn, limit string) bool {
	t.Helper()
	s := &rawSession{t: t, ws: ws}
	msg, err := s.read()
	if err == nil {
		p, _ := wisp.Decode(msg)
		if p.Type != wisp.TypeInfo {
			t.Fatalf("first packet is %v, want INFO", p.Type)
		}
		return true
	}
	s.expectSessionClosedAfter(err, CloseTooManySessions, "too many sessions ("+limit+")")
	return false
}

func TestLimitSessions(t *testing.T) {
	b := startBridge(t, Config{MaxSessions: 2})
	m := serveMetrics(t, b.h)
	first := dialV2(t, b)
	second := dialV2(t, b)
	if admitted(t, dialFrom(t, b, ""), "sessions") {
		t.Fatal("a third session was let in, past MaxSessions 2")
	}
	m.waitValue(t, 1, limitHits, "limit", "sessions")
	first.echo(b)
	second.echo(b)

	// A session that ends makes room.
	second.ws.Close(websocket.StatusNormalClosure, "")
	eventually(t, func() bool {
		ws := dialFrom(t, b, "")
		defer ws.CloseNow()
		s := &rawSession{t: t, ws: ws}
		_, err := s.read()
		return err == nil
	}, func() string { return "no room after a session closed" })
	first.echo(b)
}

// Without trusted proxies, X-Forwarded-For is the client's to write and
// changes nothing.
func TestLimitSessionsPerIP(t *testing.T) {
	b := startBridge(t, Config{MaxSessionsPerIP: 1})
	m := serveMetrics(t, b.h)
	first := dialV2(t, b)
	for i, xff := range []string{"", "203.0.113.9"} {
		if admitted(t, dialFrom(t, b, xff), "sessions_per_ip") {
			t.Fatalf("a second session from 127.0.0.1 (X-Forwarded-For %q) was let in, past MaxSessionsPerIP 1", xff)
		}
		m.waitValue(t, float64(i+1), limitHits, "limit", "sessions_per_ip")
	}
	first.echo(b)
}

// Behind a trusted proxy, the client is the address the proxy reports.
func TestLimitSessionsPerIPBehindProxy(t *testing.T) {
	b := startBridge(t, Config{
		MaxSessionsPerIP: 1,
		TrustedProxies:   []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	})
	m := serveMetrics(t, b.h)
	hits := 0
	for _, tc := range []struct {
		xff   string
		admit bool
	}{
		{"203.0.113.1", true},
		{"203.0.113.2", true},
		{"203.0.113.1", false},
		// A proxy chain: the rightmost address that is not a trusted
		// proxy is the client.
		{"203.0.113.1, 127.0.0.5", false},
		// What the client wrote itself, to the left, proves nothing.
		{"198.51.100.7, 203.0.113.1", false},
		{"198.51.100.7, 203.0.113.3", true},
		// One host commonly holds a whole IPv6 /64, so the /64 counts.
		{"2001:db8::1", true},
		{"2001:db8::2", false},
		{"2001:db8:0:1::1", true},
		// Without the header, the proxy's own address counts.
		{"", true},
		{"", false},
	} {
		ok := admitted(t, dialFrom(t, b, tc.xff), "sessions_per_ip")
		if ok != tc.admit {
			t.Fatalf("X-Forwarded-For %q: admitted %v, want %v", tc.xff, ok, tc.admit)
		}
		if !ok {
			hits++
			m.waitValue(t, float64(hits), limitHits, "limit", "sessions_per_ip")
		}
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	for _, tc := range []struct {
		peer    string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"192.0.2.1:5000", nil, nil, "192.0.2.1"},
		{"192.0.2.1:5000", []string{"198.51.100.1"}, nil, "192.0.2.1"},       // untrusted peer: header ignored
		{"192.0.2.1:5000", []string{"198.51.100.1"}, trusted, "192.0.2.1"},   // the peer is no proxy of ours
		{"10.0.0.1:5000", []string{"198.51.100.1"}, trusted, "198.51.100.1"}, // one trusted hop
		{"10.0.0.1:5000", []string{"198.51.100.1, 10.0.0.2"}, trusted, "198.51.100.1"},
		{"10.0.0.1:5000", []string{"198.51.100.1", "10.0.0.2"}, trusted, "198.51.100.1"}, // two header lines
		{"10.0.0.1:5000", []string{"6.6.6.6, 198.51.100.1"}, trusted, "198.51.100.1"},
		{"10.0.0.1:5000", []string{"10.0.0.3"}, trusted, "10.0.0.3"},          // only proxies: the last one
		{"10.0.0.1:5000", []string{"garbage, 10.0.0.2"}, trusted, "10.0.0.2"}, // stop at what does not parse
		{"10.0.0.1:5000", []string{"198.51.100.1, garbage"}, trusted, "10.0.0.1"},
		{"10.0.0.1:5000", []string{"::ffff:198.51.100.1"}, trusted, "198.51.100.1"},
		{"[2001:db8:ffff::1]:5000", []string{"2001:db8::7"}, trusted, "2001:db8::7"},
		{"[::ffff:192.0.2.1]:5000", nil, nil, "192.0.2.1"},
		{"[fe80::1%eth0]:5000", nil, nil, "fe80::1"},
	} {
		r := &http.Request{RemoteAddr: tc.peer, Header: http.Header{}}
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientIP(r, tc.trusted); got.String() != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: client %v, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
	for ip, key := range map[string]string{
		"192.0.2.1":           "192.0.2.1",
		"2001:db8:1:2:3::4":   "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::": "2001:db8:1:2::/64",
	} {
		if got := ipKey(netip.MustParseAddr(ip)); got != key {
			t.Errorf("ipKey(%s) = %s, want %s", ip, got, key)
		}
	}
}

func TestLimitSessionsPerToken(t *testing.T) {
	b, key := startTokenBridge(t, Config{MaxSessionsPerToken: 1})
	m := serveMetrics(t, b.h)
	tok := mint(t, key, Claims{Allow: []string{b.echoRule()}, Limits: TokenLimits{Sessions: 5}}) // the lower limit wins
	first := tokenSession(t, b, tok)
	ws, _, err := dialToken(t, b, tok, viaURL, "")
	if err != nil {
		t.Fatal(err)
	}
	if admitted(t, ws, "sessions_per_token") {
		t.Fatal("a second session with the token was let in, past MaxSessionsPerToken 1")
	}
	m.waitValue(t, 1, limitHits, "limit", "sessions_per_token")
	tokenSession(t, b, mint(t, key, Claims{Allow: []string{b.echoRule()}})).echo(b)
	first.echo(b)
}

func TestLimitStreams(t *testing.T) {
	b := startBridge(t, Config{MaxStreams: 2})
	m := serveMetrics(t, b.h)
	good := dialV2(t, b)
	s := dialV2(t, b)
	for id := uint32(1); id <= 2; id++ {
		s.connect(id, b.echo.String())
		s.data(id, []byte("open"))
		s.readData(id, 4)
	}
	s.connect(3, b.echo.String())
	s.expectClose(3, wisp.ReasonThrottled)
	m.waitValue(t, 1, limitHits, "limit", "streams")
	good.echo(b)
	s.data(2, []byte("still"))
	s.readData(2, 5)
}

// From the client, a DATA that would take the bytes the session holds
// beyond SessionBuffer closes its stream with 0x49. The bytes pile up
// while the stream's destination is still being resolved: DNS answers
// only when the test lets it.
func TestLimitSessionBuffer(t *testing.T) {
	dns := startDNS(t)
	dns.set("slow.test", "127.0.0.1")
	gate := make(chan struct{})
	t.Cleanup(func() { close(gate) })
	resolver := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return (&net.Dialer{}).DialContext(ctx, "udp", dns.addr)
		},
	}
	const limit = 4096
	b := startBridge(t, Config{SessionBuffer: limit, Resolver: resolver})
	m := serveMetrics(t, b.h)
	good := dialV2(t, b)
	s := dialV2(t, b)
	s.connect(1, "slow.test:"+port(b.echo.String()))
	chunk := make([]byte, 1000)
	for range limit / len(chunk) {
		s.data(1, chunk)
	}
	eventually(t, func() bool { return b.h.Stats().Buffered == limit/1000*1000 },
		func() string { return "the bridge does not hold what was sent" })
	s.data(1, chunk)
	s.expectClose(1, wisp.ReasonThrottled)
	m.waitValue(t, 1, limitHits, "limit", "session_buffer")
	m.waitValue(t, 0, "wasmnet_bridge_buffered_bytes", "direction", "up")
	good.echo(b)
	s.echo(b) // the session itself goes on, and has its buffer back
}

func TestLimitMessageSize(t *testing.T) {
	b := loopbackBridge(t)
	m := serveMetrics(t, b.h)
	good := dialV2(t, b)
	s := dialV2(t, b)
	s.connect(1, b.echo.String())
	s.sendRaw(wisp.AppendHeader(make([]byte, 0, buffer.MaxMessage+1), wisp.TypeData, 1)[:buffer.MaxMessage+1])
	s.expectSessionClosed(websocket.StatusMessageTooBig, "message longer than 65541 bytes")
	m.waitValue(t, 1, limitHits, "limit", "message_size")
	if v := m.value(t, "wasmnet_bridge_protocol_errors_total"); v != 0 {
		t.Errorf("a message too big counted as a protocol error too (%v)", v)
	}
	good.echo(b)
}

// A Wisp v2 client that never sends its first packet is cut off at
// HandshakeTimeout. (It is long enough that good's first packet, sent at
// once, does not miss it on a busy machine.)
func TestLimitHandshakeTimeout(t *testing.T) {
	t.Parallel() // it waits for its timeouts
	b := startBridge(t, Config{HandshakeTimeout: 2 * time.Second})
	m := serveMetrics(t, b.h)
	good := dialV2(t, b)
	s := &rawSession{t: t, ws: dialWS(t, b.url, "wisp-v2")}
	if p := s.next(); p.Type != wisp.TypeInfo {
		t.Fatalf("got %v, want INFO", p.Type)
	}
	if p := s.next(); p.Type != wisp.TypeContinue {
		t.Fatalf("got %v, want CONTINUE", p.Type)
	}
	s.expectSessionClosed(CloseIdle, "handshake timeout")
	m.waitValue(t, 1, limitHits, "limit", "handshake_timeout")
	good.echo(b)
}

// A session with no streams is closed after IdleTimeout without a packet
// from its client, though the client answers pings. The client has half
// of IdleTimeout to answer a ping, or it counts as vanished instead.
func TestLimitIdleSession(t *testing.T) {
	t.Parallel() // it waits for its timeouts
	b := startBridge(t, Config{IdleTimeout: 3 * time.Second})
	m := serveMetrics(t, b.h)
	s := dialV2(t, b)
	s.echo(b)
	s.expectSessionClosed(CloseIdle, "idle session")
	m.waitValue(t, 1, limitHits, "limit", "idle_session")
	dialV2(t, b).echo(b)
}

// A client that answers nothing, not even pings, is dropped after
// IdleTimeout, streams or not, without a close frame it would not read.
func TestLimitLiveness(t *testing.T) {
	t.Parallel() // it waits for its timeouts
	b := startBridge(t, Config{IdleTimeout: time.Second})
	m := serveMetrics(t, b.h)
	s := dialV2(t, b)
	s.connect(1, b.echo.String())
	// Not reading, the client does not answer the bridge's pings.
	m.waitValue(t, 1, limitHits, "limit", "liveness")
	var err error
	for err == nil {
		_, err = s.read()
	}
	if code := websocket.CloseStatus(err); code != -1 {
		t.Fatalf("a vanished client was sent close status %d; want the connection dropped", code)
	}
	dialV2(t, b).echo(b)
}

// A stream that carries nothing for StreamIdleTimeout is closed; the
// session goes on. (Each echo must finish within the timeout.)
func TestLimitStreamIdle(t *testing.T) {
	t.Parallel() // it waits for its timeouts
	b := startBridge(t, Config{StreamIdleTimeout: 2 * time.Second})
	m := serveMetrics(t, b.h)
	s := dialV2(t, b)
	s.connect(1, b.echo.String())
	s.data(1, []byte("once"))
	s.readData(1, 4)
	s.expectClose(1, wisp.ReasonTransferTimeout)
	m.waitValue(t, 1, limitHits, "limit", "idle_stream")
	s.nextID = 2
	s.echo(b)
}

// Past its rate, a session's bytes wait; none are lost.
func TestLimitRate(t *testing.T) {
	b := startBridge(t, Config{Rate: 128 << 10})
	m := serveMetrics(t, b.h)
	good := dialV2(t, b)
	s := dialV2(t, b)
	rateRoundTrip(t, s, b, 200<<10)
	if v := m.value(t, limitHits, "limit", "rate"); v == 0 {
		t.Fatalf("limit_hits_total{limit=rate} = 0 after %d bytes each way at 128 KiB/s", 200<<10)
	}
	good.echo(b)
}

// rateRoundTrip sends n bytes through the echo server in no more packets
// than the credit, so that a throttled bridge never sees them as too
// many, and checks that exactly those bytes come back.
func rateRoundTrip(t *testing.T, s *rawSession, b *testBridge, n int) {
	t.Helper()
	const id = 100
	s.connect(id, b.echo.String())
	sent := make([]byte, n)
	for i := range sent {
		sent[i] = byte(i * 7)
	}
	per := (n + int(s.credit) - 1) / int(s.credit)
	for off := 0; off < n; off += per {
		s.data(id, sent[off:min(off+per, n)])
	}
	if got := s.readData(id, n); !bytes.Equal(got, sent) {
		t.Fatalf("%d bytes through a rate-limited session came back changed", n)
	}
	s.close(id, wisp.ReasonVoluntary)
}
