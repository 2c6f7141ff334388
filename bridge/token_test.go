//go:build !js && !wasip1

package bridge

// Capability tokens: each way a token can be wrong gets its own WebSocket
// close status, and a good token grants exactly its scope, no more.

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/wisp"
)

func newKey(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// mint signs claims, valid for an hour unless they say otherwise.
func mint(t testing.TB, key ed25519.PrivateKey, c Claims) string {
	t.Helper()
	if c.Expires == 0 {
		c.Expires = time.Now().Add(time.Hour).Unix()
	}
	tok, err := MintToken(key, c)
	if err != nil {
		t.Fatalf("MintToken: %v", err)
	}
	return tok
}

// signRaw signs a claims segment as MintToken would, whatever it holds:
// for claims that MintToken refuses to sign.
func signRaw(key ed25519.PrivateKey, claims []byte) string {
	signed := "w1." + b64.EncodeToString(claims)
	return signed + "." + b64.EncodeToString(ed25519.Sign(key, []byte(signed)))
}

// startTokenBridge starts a bridge that requires tokens signed by the key
// it returns. Tokens may open special ranges, so that a token can name
// the tests' destinations on loopback, unless cfg.Tokens says otherwise.
func startTokenBridge(t *testing.T, cfg Config) (*testBridge, ed25519.PrivateKey) {
	t.Helper()
	pub, priv := newKey(t)
	if cfg.Tokens == nil {
		cfg.Tokens = &TokenConfig{OpenSpecial: true}
	}
	cfg.Tokens.Keys = append(cfg.Tokens.Keys, pub)
	return startBridge(t, cfg), priv
}

// The two ways a token travels.
const (
	viaProtocol = "subprotocol"
	viaURL      = "url"
)

// dialToken opens a "wisp-v2" WebSocket carrying tok (none if empty) and
// the Origin header origin (none if empty).
func dialToken(t *testing.T, b *testBridge, tok, via, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	u := b.url
	opts := &websocket.DialOptions{Subprotocols: []string{"wisp-v2"}, HTTPHeader: http.Header{}}
	if origin != "" {
		opts.HTTPHeader.Set("Origin", origin)
	}
	switch {
	case tok == "":
	case via == viaProtocol:
		opts.Subprotocols = append(opts.Subprotocols, TokenProtocolPrefix+tok)
	default:
		u += "?token=" + url.QueryEscape(tok)
	}
	return dialOpts(t, u, opts)
}

// tokenSession opens a v2 session with tok and runs the handshake.
func tokenSession(t *testing.T, b *testBridge, tok string, exts ...wisp.ExtID) *rawSession {
	t.Helper()
	ws, _, err := dialToken(t, b, tok, viaProtocol, "")
	if err != nil {
		t.Fatalf("dial with a token: %v", err)
	}
	return v2Session(t, ws, exts...)
}

// expectRefusedSession checks that the bridge closed a WebSocket with
// code, before any Wisp packet, with a reason that contains text.
func expectRefusedSession(t *testing.T, ws *websocket.Conn, code websocket.StatusCode, text string) {
	t.Helper()
	s := &rawSession{t: t, ws: ws}
	msg, err := s.read()
	if err == nil {
		t.Fatalf("the bridge sent % x, want the WebSocket closed with %d", msg, code)
	}
	s.expectSessionClosedAfter(err, code, text)
}

// expectSessionClosedAfter is expectSessionClosed on a read error already
// in hand.
func (s *rawSession) expectSessionClosedAfter(err error, code websocket.StatusCode, text string) {
	s.t.Helper()
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != code {
		s.t.Fatalf("session ended with %v, want close status %d", err, code)
	}
	if !strings.Contains(ce.Reason, text) {
		s.t.Fatalf("close reason is %q, want it to mention %q", ce.Reason, text)
	}
}

// echoRule is a token allow rule for the bridge's echo server.
func (b *testBridge) echoRule() string { return b.echo.String() }

func TestTokenRefusals(t *testing.T) {
	b, key := startTokenBridge(t, Config{OriginPatterns: []string{"app.example.com", "other.example.com"}})
	m := serveMetrics(t, b.h)
	_, otherKey := newKey(t)
	now := time.Now()
	good := mint(t, key, Claims{Allow: []string{b.echoRule()}})
	parts := strings.Split(good, ".")
	widened, _ := json.Marshal(Claims{Allow: []string{"*"}, Expires: now.Add(time.Hour).Unix()})
	// Another base64url letter: flipping bits instead turned '-' into '.'
	// for some keys, and the token then failed as "not a w1 token".
	flipped := []byte(parts[2])
	if flipped[10] == 'A' {
		flipped[10] = 'B'
	} else {
		flipped[10] = 'A'
	}

	for _, tc := range []struct {
		name   string
		tok    string
		origin string
		code   websocket.StatusCode
		text   string
		label  string // of handshake_refusals_total
	}{
		{"missing", "", "", CloseTokenMissing, "required", "token_missing"},
		{"wrong key", mint(t, otherKey, Claims{Allow: []string{b.echoRule()}}), "", CloseTokenInvalid, "signature does not match", "token_invalid"},
		{"claims widened", parts[0] + "." + b64.EncodeToString(widened) + "." + parts[2], "", CloseTokenInvalid, "signature does not match", "token_invalid"},
		{"signature changed", parts[0] + "." + parts[1] + "." + string(flipped), "", CloseTokenInvalid, "signature", "token_invalid"},
		{"signature cut", good[:len(good)-4], "", CloseTokenInvalid, "signature", "token_invalid"},
		{"signature not base64", parts[0] + "." + parts[1] + ".!!!!", "", CloseTokenInvalid, "bad signature encoding", "token_invalid"},
		{"not a token", "hello", "", CloseTokenInvalid, "not a w1 token", "token_invalid"},
		{"another version", "w2." + parts[1] + "." + parts[2], "", CloseTokenInvalid, "not a w1 token", "token_invalid"},
		{"too long", "w1." + strings.Repeat("A", 5000) + "." + parts[2], "", CloseTokenInvalid, "too long", "token_invalid"},
		// Signed with the right key, but not claims the bridge can hold to.
		{"claims not base64", "w1.!!!!." + b64.EncodeToString(ed25519.Sign(key, []byte("w1.!!!!"))), "", CloseTokenInvalid, "bad claims encoding", "token_invalid"},
		{"claims not JSON", signRaw(key, []byte("exp=1")), "", CloseTokenInvalid, "claims", "token_invalid"},
		{"unknown claim", signRaw(key, fmt.Appendf(nil, `{"exp":%d,"admin":true}`, now.Add(time.Hour).Unix())), "", CloseTokenInvalid, "unknown field", "token_invalid"},
		{"no expiry", signRaw(key, []byte(`{"allow":["*"]}`)), "", CloseTokenInvalid, "no expiry", "token_invalid"},
		{"bad rule", signRaw(key, fmt.Appendf(nil, `{"exp":%d,"allow":["a b"]}`, now.Add(time.Hour).Unix())), "", CloseTokenInvalid, "allow", "token_invalid"},
		{"expired", mint(t, key, Claims{Expires: now.Add(-time.Minute).Unix()}), "", CloseTokenExpired, "expired", "token_expired"},
		{"not yet valid", mint(t, key, Claims{NotBefore: now.Add(time.Hour).Unix()}), "", CloseTokenExpired, "not yet valid", "token_expired"},
		{"other origin", mint(t, key, Claims{Origins: []string{"app.example.com"}}), "https://other.example.com", CloseTokenOrigin, "origin", "token_origin"},
		{"bound, no origin", mint(t, key, Claims{Origins: []string{"app.example.com"}}), "", CloseTokenOrigin, "origin", "token_origin"},
	} {
		for _, via := range []string{viaProtocol, viaURL} {
			t.Run(tc.name+"/"+via, func(t *testing.T) {
				_, before := m.scrape(t)
				ws, _, err := dialToken(t, b, tc.tok, via, tc.origin)
				if err != nil {
					t.Fatalf("handshake: %v; token failures close the WebSocket after the upgrade, so that a page can read why", err)
				}
				expectRefusedSession(t, ws, tc.code, tc.text)
				m.waitValue(t, before.get("wasmnet_bridge_handshake_refusals_total", "reason", tc.label)+1,
					"wasmnet_bridge_handshake_refusals_total", "reason", tc.label)
				if v := m.value(t, "wasmnet_bridge_sessions_total"); v != before.get("wasmnet_bridge_sessions_total") {
					t.Errorf("a refused token opened a session: sessions_total went from %v to %v", before.get("wasmnet_bridge_sessions_total"), v)
				}
			})
		}
	}

	// The good token, from both places and from its origin, does open a
	// session: the refusals above were the token's fault.
	bound := mint(t, key, Claims{Allow: []string{b.echoRule()}, Origins: []string{"app.example.com"}})
	for _, via := range []string{viaProtocol, viaURL} {
		for tok, origin := range map[string]string{good: "", bound: "https://app.example.com"} {
			ws, _, err := dialToken(t, b, tok, via, origin)
			if err != nil {
				t.Fatal(err)
			}
			v2Session(t, ws).echo(b)
			ws.Close(websocket.StatusNormalClosure, "")
		}
	}
}

// A token comes in the URL or in a subprotocol; either way the bridge
// selects "wisp-v2", never the token, which would travel back in the
// response.
func TestTokenVia(t *testing.T) {
	b, key := startTokenBridge(t, Config{})
	tok := mint(t, key, Claims{Allow: []string{b.echoRule()}})
	for _, via := range []string{viaProtocol, viaURL} {
		ws, resp, err := dialToken(t, b, tok, via, "")
		if err != nil {
			t.Fatalf("via %s: %v", via, err)
		}
		if p := ws.Subprotocol(); p != "wisp-v2" {
			t.Errorf("via %s: the bridge selected subprotocol %q, want wisp-v2", via, p)
		}
		for k, v := range resp.Header {
			if strings.Contains(strings.Join(v, ","), tok[len(tok)-20:]) {
				t.Errorf("via %s: the response header %s carries the token", via, k)
			}
		}
		v2Session(t, ws).echo(b)
		ws.Close(websocket.StatusNormalClosure, "")
	}
}

// With TokenConfig.Optional, a client without a token gets the bridge's
// own policy, and one with a token gets the token's scope; a bad token is
// still refused rather than taken for none.
func TestTokenOptional(t *testing.T) {
	other := listen(t, nil)
	b, key := startTokenBridge(t, Config{
		Policy: Policy{Allow: []Rule{mustRule(t, other.addr())}},
		Tokens: &TokenConfig{Optional: true, OpenSpecial: true},
	})
	plain := dialV2(t, b, wisp.ExtOpened)
	plain.connect(10, other.addr())
	if p := plain.nextOn(10); p.Type != wisp.TypeOpened {
		t.Fatalf("without a token, the bridge's allow rule: got %v (reason %v), want OPENED", p.Type, p.Reason)
	}
	plain.echo(b)

	tok := mint(t, key, Claims{Allow: []string{b.echoRule()}})
	s := tokenSession(t, b, tok, wisp.ExtOpened)
	s.echo(b)
	s.connect(10, other.addr())
	s.expectClose(10, wisp.ReasonOutOfScope)

	_, wrongKey := newKey(t)
	ws, _, err := dialToken(t, b, mint(t, wrongKey, Claims{}), viaURL, "")
	if err != nil {
		t.Fatal(err)
	}
	expectRefusedSession(t, ws, CloseTokenInvalid, "signature")
}

// A token reaches what its allow rules name and nothing else, however
// much the bridge's own rules allow; the bridge's deny rules still win.
func TestTokenScopeDestinations(t *testing.T) {
	allowedByBridge := listen(t, nil)
	deniedByBridge := listen(t, nil)
	deniedByToken := listen(t, nil)
	b, key := startTokenBridge(t, Config{Policy: Policy{
		Allow: []Rule{mustRule(t, "127.0.0.1/32"), mustRule(t, "*")},
		Deny:  []Rule{mustRule(t, deniedByBridge.addr())},
	}})
	m := serveMetrics(t, b.h)
	tok := mint(t, key, Claims{
		Allow: []string{b.echoRule(), deniedByBridge.addr(), "127.0.0.1/32:" + port(deniedByToken.addr())},
		Deny:  []string{deniedByToken.addr()},
	})
	s := tokenSession(t, b, tok, wisp.ExtOpened)
	s.echo(b)

	s.connect(11, allowedByBridge.addr())
	s.expectClose(11, wisp.ReasonOutOfScope)
	m.waitValue(t, 1, "wasmnet_bridge_policy_refusals_total", "kind", "token_scope")
	m.waitValue(t, 1, "wasmnet_bridge_dial_errors_total", "reason", "out_of_scope")

	// A public address the bridge allows under "*", out of the token's
	// scope: refused before any socket.
	s.connect(12, "9.9.9.9:443")
	s.expectClose(12, wisp.ReasonOutOfScope)
	// By name too: the token's rules judge the addresses it resolves to.
	s.connect(13, "localhost:"+port(allowedByBridge.addr()))
	s.expectClose(13, wisp.ReasonOutOfScope)

	s.connect(14, deniedByBridge.addr())
	s.expectClose(14, wisp.ReasonBlocked)
	s.connect(15, deniedByToken.addr())
	s.expectClose(15, wisp.ReasonBlocked)
	m.waitValue(t, 2, "wasmnet_bridge_policy_refusals_total", "kind", "deny_rule")
	m.waitValue(t, 3, "wasmnet_bridge_policy_refusals_total", "kind", "token_scope")

	// Not one of them was connected to.
	for _, d := range []*destination{allowedByBridge, deniedByBridge, deniedByToken} {
		d.expectNone(t, "the bridge connected to "+d.addr()+", which the session may not reach")
	}
	s.echo(b)
}

// A token's rules cannot open special ranges unless the operator lets
// them (TokenConfig.OpenSpecial), and "*" never does.
func TestTokenSpecialRanges(t *testing.T) {
	b, key := startTokenBridge(t, Config{Tokens: &TokenConfig{}})
	tok := mint(t, key, Claims{Allow: []string{b.echoRule(), "*", "localhost"}})
	s := tokenSession(t, b, tok)
	s.connect(1, b.echo.String())
	s.expectClose(1, wisp.ReasonBlocked)
	s.connect(2, "localhost:"+port(b.echo.String()))
	s.expectClose(2, wisp.ReasonBlocked)

	// Where tokens may open special ranges, a token that does not name
	// the address lacks the scope: another token could reach it.
	ob, okey := startTokenBridge(t, Config{Tokens: &TokenConfig{OpenSpecial: true}})
	s = tokenSession(t, ob, mint(t, okey, Claims{Allow: []string{"*"}}))
	s.connect(1, ob.echo.String())
	s.expectClose(1, wisp.ReasonOutOfScope)
	s = tokenSession(t, ob, mint(t, okey, Claims{Allow: []string{ob.echoRule()}}))
	s.echo(ob)
}

func TestTokenUDP(t *testing.T) {
	echo := udpEcho(t)
	rule := echo.String()
	has := func(info *wisp.Info) bool { _, ok := info.Ext(wisp.ExtUDP); return ok }

	b, key := startTokenBridge(t, Config{})
	m := serveMetrics(t, b.h)
	s := tokenSession(t, b, mint(t, key, Claims{Allow: []string{rule}}), wisp.ExtUDP)
	if has(s.info) {
		t.Errorf("the bridge offers UDP to a token that does not grant it")
	}
	s.send(udpConnect(1, echo))
	s.expectClose(1, wisp.ReasonOutOfScope)
	m.waitValue(t, 1, "wasmnet_bridge_policy_refusals_total", "kind", "token_scope")

	s = tokenSession(t, b, mint(t, key, Claims{Allow: []string{rule}, UDP: true}), wisp.ExtUDP)
	if !has(s.info) {
		t.Fatalf("the bridge does not offer UDP to a token that grants it")
	}
	s.send(udpConnect(1, echo))
	s.data(1, []byte("datagram"))
	if got := s.readData(1, 8); string(got) != "datagram" {
		t.Fatalf("UDP echo: %q", got)
	}
	// The token's UDP grant does not reach beyond its allow rules.
	s.send(udpConnect(2, &net.UDPAddr{IP: echo.IP, Port: echo.Port + 1}))
	s.expectClose(2, wisp.ReasonOutOfScope)

	// A bridge with UDP off refuses it whatever a token says.
	nb, nkey := startTokenBridge(t, Config{NoUDP: true})
	s = tokenSession(t, nb, mint(t, nkey, Claims{Allow: []string{rule}, UDP: true}), wisp.ExtUDP)
	if has(s.info) {
		t.Errorf("a bridge with UDP off offers UDP")
	}
	s.send(udpConnect(1, echo))
	s.expectClose(1, wisp.ReasonInvalid)
}

func TestTokenListen(t *testing.T) {
	p := freePort(t)
	b, key := startTokenBridge(t, Config{Listen: &ListenConfig{
		Addr:      netip.MustParseAddr("127.0.0.1"),
		PortLow:   p,
		PortHigh:  p + 1,
		Endpoints: true,
	}})
	m := serveMetrics(t, b.h)
	opened := func(s *rawSession, id uint32) {
		t.Helper()
		if got := s.nextOn(id); got.Type != wisp.TypeOpened {
			t.Fatalf("LISTEN %d: got %v (reason %v), want OPENED", id, got.Type, got.Reason)
		}
	}

	none := tokenSession(t, b, mint(t, key, Claims{}), wisp.ExtListen)
	none.send(listenPacket(1, "", p))
	none.expectClose(1, wisp.ReasonOutOfScope)
	none.send(listenPacket(2, "chat.wasmnet.internal", 80))
	none.expectClose(2, wisp.ReasonOutOfScope)

	s := tokenSession(t, b, mint(t, key, Claims{Listen: &ListenScope{
		Ports:     fmt.Sprint(p),
		Endpoints: []string{"chat.wasmnet.internal:80"},
	}}), wisp.ExtListen, wisp.ExtOpened)
	s.send(listenPacket(1, "", p+1)) // the bridge's range, not the token's
	s.expectClose(1, wisp.ReasonOutOfScope)
	s.send(listenPacket(2, "", p-1)) // outside both
	s.expectClose(2, wisp.ReasonPortRange)
	s.send(listenPacket(3, "other.wasmnet.internal", 80))
	s.expectClose(3, wisp.ReasonOutOfScope)
	s.send(listenPacket(4, "chat.wasmnet.internal", 81))
	s.expectClose(4, wisp.ReasonOutOfScope)
	s.send(listenPacket(5, "", p))
	opened(s, 5)
	s.send(listenPacket(6, "chat.wasmnet.internal", 80))
	opened(s, 6)
	m.waitValue(t, 5, "wasmnet_bridge_policy_refusals_total", "kind", "token_scope")
	m.waitValue(t, 2, "wasmnet_bridge_listeners")

	// Dialing an endpoint needs a rule of the token that names it; "*"
	// means the internet, not other sessions' endpoints.
	star := tokenSession(t, b, mint(t, key, Claims{Allow: []string{"*"}}), wisp.ExtOpened)
	star.connect(1, "chat.wasmnet.internal:80")
	star.expectClose(1, wisp.ReasonOutOfScope)
	named := tokenSession(t, b, mint(t, key, Claims{Allow: []string{"chat.wasmnet.internal:80"}}), wisp.ExtOpened)
	named.connect(1, "chat.wasmnet.internal:80")
	if got := named.nextOn(1); got.Type != wisp.TypeOpened {
		t.Fatalf("CONNECT to a granted endpoint: got %v (reason %v), want OPENED", got.Type, got.Reason)
	}

	// A bridge that does not listen refuses even a token that grants it.
	nb, nkey := startTokenBridge(t, Config{})
	s = tokenSession(t, nb, mint(t, nkey, Claims{Listen: &ListenScope{Ports: fmt.Sprint(p)}}), wisp.ExtListen)
	s.send(listenPacket(1, "", p))
	s.expectClose(1, wisp.ReasonListenDisabled)
}

func TestTokenLimitSessions(t *testing.T) {
	b, key := startTokenBridge(t, Config{})
	m := serveMetrics(t, b.h)
	tok := mint(t, key, Claims{Allow: []string{b.echoRule()}, Limits: TokenLimits{Sessions: 1}})
	first := tokenSession(t, b, tok)
	first.echo(b)

	ws, _, err := dialToken(t, b, tok, viaURL, "")
	if err != nil {
		t.Fatal(err)
	}
	expectRefusedSession(t, ws, CloseTooManySessions, "sessions_per_token")
	m.waitValue(t, 1, limitHits, "limit", "sessions_per_token")

	// Another token, and the first session, carry on.
	tokenSession(t, b, mint(t, key, Claims{Allow: []string{b.echoRule()}})).echo(b)
	first.echo(b)

	// Once the first session ends, the token may open another.
	first.ws.Close(websocket.StatusNormalClosure, "")
	eventually(t, func() bool {
		ws, _, err := dialToken(t, b, tok, viaProtocol, "")
		if err != nil {
			t.Fatal(err)
		}
		s := &rawSession{t: t, ws: ws}
		msg, err := s.read()
		ws.CloseNow()
		return err == nil && len(msg) > 0
	}, func() string { return "the token's session never became free again" })
}

func TestTokenLimitStreams(t *testing.T) {
	b, key := startTokenBridge(t, Config{})
	m := serveMetrics(t, b.h)
	s := tokenSession(t, b, mint(t, key, Claims{Allow: []string{b.echoRule()}, Limits: TokenLimits{Streams: 1}}))
	s.connect(1, b.echo.String())
	s.data(1, []byte("one"))
	s.readData(1, 3)
	s.connect(2, b.echo.String())
	s.expectClose(2, wisp.ReasonThrottled)
	m.waitValue(t, 1, limitHits, "limit", "streams")
	s.data(1, []byte("still"))
	s.readData(1, 5)
	s.close(1, wisp.ReasonVoluntary)
	s.nextID = 3
	eventually(t, func() bool { return b.h.Stats().Streams == 0 }, func() string { return "the stream never closed" })
	s.echo(b)
}

func TestTokenLimitRate(t *testing.T) {
	b, key := startTokenBridge(t, Config{})
	m := serveMetrics(t, b.h)
	s := tokenSession(t, b, mint(t, key, Claims{Allow: []string{b.echoRule()}, Limits: TokenLimits{Rate: 128 << 10}}))
	rateRoundTrip(t, s, b, 200<<10)
	if v := m.value(t, limitHits, "limit", "rate"); v == 0 {
		t.Fatalf("limit_hits_total{limit=rate} = 0 after %d bytes each way at 128 KiB/s", 200<<10)
	}
}

// A session ends when its token expires: each stream gets CLOSE(0xD7),
// then the WebSocket closes with CloseTokenExpired.
func TestTokenExpiresDuringSession(t *testing.T) {
	t.Parallel() // it waits for its timeouts
	b, key := startTokenBridge(t, Config{})
	tok := mint(t, key, Claims{Allow: []string{b.echoRule()}, Expires: time.Now().Add(5 * time.Second).Unix()}) // 4-5 s, in whole seconds
	s := tokenSession(t, b, tok)
	s.connect(1, b.echo.String())
	s.data(1, []byte("before"))
	s.readData(1, 6)
	s.expectClose(1, wisp.ReasonTokenExpired)
	s.expectSessionClosed(CloseTokenExpired, "expired")
}

// The token is a bearer credential: neither the log nor the metrics may
// show it, or its signature, even at the debug level.
func TestTokenNeverLogged(t *testing.T) {
	log, c := captureLog(t)
	b, key := startTokenBridge(t, Config{Logger: log, OriginPatterns: []string{"app.example.com"}})
	m := serveMetrics(t, b.h)
	_, wrongKey := newKey(t)
	used := mint(t, key, Claims{Subject: "alice", Allow: []string{b.echoRule()}, Limits: TokenLimits{Sessions: 2}})
	tokens := map[string]string{
		"used":      used,
		"wrong key": mint(t, wrongKey, Claims{Allow: []string{"*"}}),
		"expired":   mint(t, key, Claims{Expires: time.Now().Add(-time.Hour).Unix()}),
		"origin":    mint(t, key, Claims{Origins: []string{"app.example.com"}}),
	}

	for _, via := range []string{viaProtocol, viaURL} {
		ws, _, err := dialToken(t, b, used, via, "")
		if err != nil {
			t.Fatal(err)
		}
		s := v2Session(t, ws, wisp.ExtUDP)
		s.echo(b)
		s.connect(10, "9.9.9.9:443")
		s.expectClose(10, wisp.ReasonOutOfScope)
		s.send(udpConnect(11, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}))
		s.expectClose(11, wisp.ReasonOutOfScope)
		s.sendRaw([]byte{0x06, 1, 0, 0, 0})
		s.expectSessionClosed(websocket.StatusProtocolError, "")
	}
	for name, tok := range tokens {
		if name == "used" {
			continue
		}
		_, resp, err := dialToken(t, b, tok, viaURL, "https://other.example")
		expectForbidden(t, "https://other.example", resp, err)
		ws, _, err := dialToken(t, b, tok, viaProtocol, "")
		if err != nil {
			t.Fatal(err)
		}
		expectRefusedSession(t, ws, map[string]websocket.StatusCode{
			"wrong key": CloseTokenInvalid, "expired": CloseTokenExpired, "origin": CloseTokenOrigin}[name], "token")
	}
	// Past the token's session limit, once the sessions above have ended
	// at the bridge too: a client sees the close before the bridge is done.
	b.waitIdle(t)
	s1 := tokenSession(t, b, used)
	s2 := tokenSession(t, b, used)
	ws, _, err := dialToken(t, b, used, viaURL, "")
	if err != nil {
		t.Fatal(err)
	}
	expectRefusedSession(t, ws, CloseTooManySessions, "sessions_per_token")
	s1.ws.CloseNow()
	s2.ws.CloseNow()
	b.waitIdle(t)

	logs := c.text()
	metrics, _ := m.scrape(t)
	for name, tok := range tokens {
		sig := tok[strings.LastIndex(tok, ".")+1:]
		for what, text := range map[string]string{"log": logs, "metrics": metrics} {
			if strings.Contains(text, tok) {
				t.Errorf("the %s shows the %s token", what, name)
			}
			if strings.Contains(text, sig) {
				t.Errorf("the %s shows the %s token's signature", what, name)
			}
			if strings.Contains(text, url.QueryEscape(tok)) {
				t.Errorf("the %s shows the %s token, escaped", what, name)
			}
		}
	}
	// What the log does show: the fingerprint, and the subject.
	if !strings.Contains(logs, TokenFingerprint(used)) || !strings.Contains(logs, `"sub":"alice"`) {
		t.Errorf("the log does not name the token by its fingerprint and subject")
	}
}

func TestMintToken(t *testing.T) {
	pub, key := newKey(t)
	c := Claims{
		Subject: "alice", ID: "1", IssuedAt: 1, NotBefore: 2, Expires: time.Now().Add(time.Hour).Unix(),
		Origins: []string{"app.example.com"}, Allow: []string{"*:443"}, Deny: []string{"10.0.0.0/8"},
		Listen: &ListenScope{Ports: "20000-20009", Endpoints: []string{"*.alice.wasmnet.internal"}},
		UDP:    true, Limits: TokenLimits{Sessions: 1, Streams: 2, Rate: 3},
	}
	tok := mint(t, key, c)
	if strings.ContainsFunc(tok, func(r rune) bool { return !strings.ContainsRune(tokenChars, r) }) {
		t.Errorf("token %q has characters a subprotocol may not hold", tok)
	}
	got, err := ParseToken(tok, []ed25519.PublicKey{pub}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(c)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("claims came back as\n%s\nwant\n%s", gotJSON, wantJSON)
	}
	if fp := TokenFingerprint(tok); len(fp) != 12 || strings.Contains(tok, fp) {
		t.Errorf("fingerprint %q: want 12 hex digits that are not part of the token", fp)
	}

	for name, c := range map[string]Claims{
		"no expiry":       {Allow: []string{"*"}},
		"bad allow":       {Expires: 1, Allow: []string{"a b"}},
		"bad deny":        {Expires: 1, Deny: []string{":1"}},
		"bad origin":      {Expires: 1, Origins: []string{"[x"}},
		"bad ports":       {Expires: 1, Listen: &ListenScope{Ports: "9-1"}},
		"public endpoint": {Expires: 1, Listen: &ListenScope{Endpoints: []string{"example.com:80"}}},
		"star endpoint":   {Expires: 1, Listen: &ListenScope{Endpoints: []string{"*"}}},
		"negative limit":  {Expires: 1, Limits: TokenLimits{Streams: -1}},
	} {
		if tok, err := MintToken(key, c); err == nil {
			t.Errorf("%s: MintToken signed %q, want an error", name, tok)
		}
	}

	for _, tc := range []struct {
		at   time.Time
		want error
	}{
		{time.Unix(1, 0), ErrTokenNotYetValid},
		{time.Unix(c.Expires, 0), ErrTokenExpired},
	} {
		if _, err := ParseToken(tok, []ed25519.PublicKey{pub}, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("ParseToken at %v: %v, want %v", tc.at, err, tc.want)
		}
	}
	other, _ := newKey(t)
	if _, err := ParseToken(tok, []ed25519.PublicKey{other}, time.Now()); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("ParseToken with another key: %v, want ErrTokenInvalid", err)
	}
	if _, err := ParseToken(tok, []ed25519.PublicKey{other, pub}, time.Now()); err != nil {
		t.Errorf("ParseToken with the key second of two: %v", err)
	}
}

// tokenChars are the characters of base64url and the dots: all of them
// may stand in a WebSocket subprotocol (an RFC 7230 token).
const tokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// freePort finds a port on loopback that nothing listens on, with the
// one above it free as well as far as can be known.
func freePort(t *testing.T) uint16 {
	t.Helper()
	for range 10 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if p > 1 && p < 65535 {
			return uint16(p)
		}
	}
	t.Fatal("no free port")
	return 0
}
