//go:build !js && !wasip1

package bridge

// The bridge's log: every line of a session names it, and every policy
// decision says why. The log is captured as JSON, as an operator's log
// pipeline would take it, and read line by line.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/wisp"
)

// logCapture keeps what a JSON slog handler writes, and passes it on to
// the test's log for when the test fails.
type logCapture struct {
	t   testing.TB
	mu  sync.Mutex
	buf bytes.Buffer
}

// captureLog returns a logger at the debug level and what it wrote.
func captureLog(t testing.TB) (*slog.Logger, *logCapture) {
	c := &logCapture{t: t}
	return slog.New(slog.NewJSONHandler(c, &slog.HandlerOptions{Level: slog.LevelDebug})), c
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.buf.Write(p)
	c.mu.Unlock()
	c.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func (c *logCapture) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// lines decodes every line written so far.
func (c *logCapture) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(c.text()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, l)
		}
		out = append(out, m)
	}
	return out
}

// withMsg returns the lines whose message starts with prefix.
func withMsg(lines []map[string]any, prefix string) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if msg, _ := l["msg"].(string); strings.HasPrefix(msg, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// Two sessions at once, each doing things that log: every line carries
// the id of its session, and the lines of one never carry the other's.
func TestLogNamesSession(t *testing.T) {
	log, c := captureLog(t)
	closed := closedPort(t)
	b := startBridge(t, Config{Logger: log, Policy: Policy{Allow: []Rule{mustRule(t, closed)}}})

	s1 := dialV2(t, b, wisp.ExtOpened)
	s2 := dialV2(t, b, wisp.ExtOpened)
	s1.echo(b)
	s2.connect(1, closed)
	s2.expectClose(1, wisp.ReasonRefused)
	s1.connect(2, "127.0.0.2:80")
	s1.expectClose(2, wisp.ReasonBlocked)
	s2.sendRaw([]byte{0x06, 1, 0, 0, 0})
	s2.expectSessionClosed(websocket.StatusProtocolError, "")
	_, resp, err := dialOrigin(t, b.url, "https://evil.example")
	expectForbidden(t, "https://evil.example", resp, err)
	s1.ws.Close(websocket.StatusNormalClosure, "")
	b.waitIdle(t)

	// Whose line is whose is known from what each session did: the first
	// tried 127.0.0.2, the second the closed port and a bad packet, and
	// a third never got past its handshake.
	_, closedPortText, _ := net.SplitHostPort(closed)
	owner := func(l map[string]any) string {
		msg, _ := l["msg"].(string)
		port, _ := l["port"].(float64)
		switch {
		case l["host"] == "127.0.0.2" || l["port"] == float64(b.echo.Port):
			return "first"
		case fmt.Sprint(port) == closedPortText || strings.Contains(msg, "protocol error"):
			return "second"
		case strings.HasPrefix(msg, "websocket refused"):
			return "refused"
		}
		return "" // session open, session closed: anyone's
	}
	ids := map[string]float64{}
	sessions := map[float64]bool{}
	for _, l := range c.lines(t) {
		id, ok := l["session"].(float64)
		if !ok {
			t.Errorf("log line without a session id: %v", l)
			continue
		}
		if _, ok := l["remote"].(string); !ok {
			t.Errorf("log line without the client's address: %v", l)
		}
		sessions[id] = true
		who := owner(l)
		if who == "" {
			continue
		}
		if prev, ok := ids[who]; ok && prev != id {
			t.Errorf("lines of the %s session carry ids %v and %v: %v", who, prev, id, l)
		}
		ids[who] = id
	}
	if len(ids) != 3 || len(sessions) != 3 || ids["first"] == ids["second"] || ids["refused"] == ids["first"] || ids["refused"] == ids["second"] {
		t.Fatalf("want three sessions with ids of their own, got %v among %v", ids, sessions)
	}
	for _, l := range withMsg(c.lines(t), "session open") {
		if l["session"] == ids["refused"] {
			t.Errorf("the refused handshake logged a session: %v", l)
		}
	}
}

// Every decision of the policy, to let a stream through or not, comes
// with the reason in the attribute "why".
func TestLogExplainsPolicy(t *testing.T) {
	log, c := captureLog(t)
	denied := listen(t, nil)
	b := startBridge(t, Config{
		Logger: log,
		Policy: Policy{Allow: []Rule{mustRule(t, "127.0.0.1/32"), mustRule(t, "*:443")}, Deny: []Rule{mustRule(t, denied.addr())}},
		Listen: &ListenConfig{Endpoints: true},
		NoUDP:  false,
	})
	s := dialV2(t, b, wisp.ExtOpened, wisp.ExtListen)
	s.echo(b)                             // allowed
	s.connect(10, denied.addr())          // a deny rule
	s.expectClose(10, wisp.ReasonBlocked) //
	s.connect(11, "127.0.0.2:443")        // special range
	s.expectClose(11, wisp.ReasonBlocked) //
	s.connect(12, "9.9.9.9:80")           // no allow rule
	s.expectClose(12, wisp.ReasonBlocked) //
	s.send(listenPacket(13, "", 8080))    // public ports are off
	s.expectClose(13, wisp.ReasonListenDisabled)
	s.ws.Close(websocket.StatusNormalClosure, "")
	_, resp, err := dialOrigin(t, b.url, "https://evil.example")
	expectForbidden(t, "https://evil.example", resp, err)
	b.waitIdle(t)

	// What a token does not grant.
	tb, key := startTokenBridge(t, Config{Logger: log, Listen: &ListenConfig{Endpoints: true}})
	ts := tokenSession(t, tb, mint(t, key, Claims{Allow: []string{tb.echoRule()}}), wisp.ExtUDP, wisp.ExtListen)
	ts.connect(1, "9.9.9.9:443")
	ts.expectClose(1, wisp.ReasonOutOfScope)
	ts.send(udpConnect(2, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tb.echo.Port}))
	ts.expectClose(2, wisp.ReasonOutOfScope)
	ts.send(listenPacket(3, "chat.wasmnet.internal", 80))
	ts.expectClose(3, wisp.ReasonOutOfScope)
	ts.connect(4, "chat.wasmnet.internal:80")
	ts.expectClose(4, wisp.ReasonOutOfScope)
	ts.ws.Close(websocket.StatusNormalClosure, "")
	tb.waitIdle(t)

	lines := c.lines(t)
	wantWhy := map[string]string{
		"allow rule":            "policy allows",
		"deny rule":             "policy refuses",
		"loopback address":      "policy refuses",
		"no allow rule matches": "policy refuses",
		"public ports are off":  "listen refused",
		"origin pattern":        "websocket refused: origin",
	}
	for why, msg := range wantWhy {
		found := false
		for _, l := range withMsg(lines, msg) {
			if w, _ := l["why"].(string); strings.Contains(w, why) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %q line explains %q", msg, why)
		}
	}
	for _, prefix := range []string{"policy ", "listen refused", "UDP refused", "websocket refused: origin"} {
		for _, l := range withMsg(lines, prefix) {
			if w, _ := l["why"].(string); w == "" {
				t.Errorf("policy decision without a why: %v", l)
			}
		}
	}
}

func listenPacket(id uint32, host string, port uint16) wisp.Packet {
	return wisp.Packet{Type: wisp.TypeListen, Stream: id, Connect: wisp.Connect{StreamType: wisp.StreamTCP, Host: host, Port: port}}
}
