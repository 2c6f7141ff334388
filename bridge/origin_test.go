//go:build !js && !wasip1

package bridge

// The Origin check. Browsers apply no CORS to WebSocket handshakes: any
// page may open a WebSocket to the bridge, and the browser names the page
// in Origin. Each case here is a real WebSocket handshake carrying the
// Origin header a browser would send.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/wisp"
)

// dialOrigin opens a "wisp-v2" WebSocket with the Origin header set to
// origin (none if empty). The error and response are the handshake's.
func dialOrigin(t *testing.T, url, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	hdr := http.Header{}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	return dialOpts(t, url, &websocket.DialOptions{Subprotocols: []string{"wisp-v2"}, HTTPHeader: hdr})
}

// dialOpts opens a WebSocket with opts; the connection is closed when the
// test ends.
func dialOpts(t *testing.T, url string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, url, opts)
	if ws != nil {
		ws.SetReadLimit(-1)
		t.Cleanup(func() { ws.CloseNow() })
	}
	return ws, resp, err
}

// v2Session runs the Wisp v2 handshake on a WebSocket that is already
// open, as dialV2 does, and returns the raw session.
func v2Session(t *testing.T, ws *websocket.Conn, exts ...wisp.ExtID) *rawSession {
	t.Helper()
	s := &rawSession{t: t, ws: ws, nextID: 1}
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

// expectForbidden checks that a handshake failed with 403 before the
// upgrade.
func expectForbidden(t *testing.T, origin string, resp *http.Response, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("Origin %q: the bridge upgraded the WebSocket, want 403", origin)
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("Origin %q: handshake failed with %v (response %v), want 403 Forbidden", origin, err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "origin not allowed") {
		t.Fatalf("Origin %q: 403 body is %q, want it to say the origin is not allowed", origin, body)
	}
}

func TestOriginSameAllowed(t *testing.T) {
	b := loopbackBridge(t)
	own := "http://" + strings.TrimPrefix(strings.TrimSuffix(b.url, "/"), "ws://")
	for _, origin := range []string{own, strings.ToUpper(own)} {
		ws, _, err := dialOrigin(t, b.url, origin)
		if err != nil {
			t.Fatalf("Origin %q, the bridge's own: %v", origin, err)
		}
		v2Session(t, ws).echo(b)
		ws.Close(websocket.StatusNormalClosure, "")
	}
	b.waitIdle(t)
}

// A request without Origin comes from a program, which could send any
// Origin it liked; it is let in even when patterns are configured.
func TestOriginMissingAllowed(t *testing.T) {
	b := startBridge(t, Config{OriginPatterns: []string{"app.example.com"}})
	ws, _, err := dialOrigin(t, b.url, "")
	if err != nil {
		t.Fatalf("handshake without Origin: %v", err)
	}
	v2Session(t, ws).echo(b)
}

func TestOriginForeignRefused(t *testing.T) {
	b := loopbackBridge(t)
	m := serveMetrics(t, b.h)
	good := dialV2(t, b)
	good.echo(b)

	_, resp, err := dialOrigin(t, b.url, "https://evil.example")
	expectForbidden(t, "https://evil.example", resp, err)

	// Refused before the upgrade: no session was ever counted.
	_, got := m.scrape(t)
	if n := got.get("wasmnet_bridge_handshake_refusals_total", "reason", "origin"); n != 1 {
		t.Errorf("handshake_refusals_total{reason=origin} = %v, want 1", n)
	}
	if n := got.get("wasmnet_bridge_sessions_total"); n != 1 {
		t.Errorf("sessions_total = %v, want 1 (only the good session)", n)
	}
	good.echo(b)
}

func TestOriginPatterns(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		origin   string
		allowed  bool
	}{
		// A host pattern matches the host whatever the scheme.
		{[]string{"app.example.com"}, "https://app.example.com", true},
		{[]string{"app.example.com"}, "http://app.example.com", true},
		{[]string{"app.example.com"}, "https://APP.Example.COM", true},
		{[]string{"app.example.com"}, "https://evil.example", false},
		{[]string{"app.example.com"}, "https://app.example.com.evil.example", false},
		{[]string{"app.example.com"}, "https://xapp.example.com", false},
		{[]string{"app.example.com"}, "https://sub.app.example.com", false},
		// The host includes the port: a pattern without one matches
		// only an origin on the scheme's default port.
		{[]string{"app.example.com"}, "https://app.example.com:8443", false},
		{[]string{"app.example.com:8443"}, "https://app.example.com:8443", true},
		// A wildcard covers subdomains, not the domain itself.
		{[]string{"*.example.com"}, "https://a.example.com", true},
		{[]string{"*.example.com"}, "https://a.b.example.com", true},
		{[]string{"*.example.com"}, "https://example.com", false},
		{[]string{"*.example.com"}, "https://evilexample.com", false},
		{[]string{"*.example.com"}, "https://a.example.com.evil.example", false},
		// A pattern with a scheme matches that scheme only.
		{[]string{"https://app.example.com"}, "https://app.example.com", true},
		{[]string{"https://app.example.com"}, "http://app.example.com", false},
		// Sandboxed frames and file: pages send "null": only the pattern
		// "null" lets them in.
		{[]string{"null"}, "null", true},
		{nil, "null", false},
		{[]string{"*"}, "null", false},
		{[]string{"app.example.com"}, "null", false},
		// Several patterns: any one will do.
		{[]string{"a.example.com", "b.example.com"}, "https://b.example.com", true},
		// Origins that are not origins.
		{[]string{"app.example.com"}, "app.example.com", false},
		{[]string{"app.example.com"}, "https://", false},
		{nil, "https://evil.example", false},
		// A malformed pattern refuses rather than matching anything.
		{[]string{"[app.example.com"}, "https://app.example.com", false},
	} {
		t.Run(fmt.Sprintf("%q/%s", tc.patterns, tc.origin), func(t *testing.T) {
			b := startBridge(t, Config{OriginPatterns: tc.patterns})
			ws, resp, err := dialOrigin(t, b.url, tc.origin)
			if !tc.allowed {
				expectForbidden(t, tc.origin, resp, err)
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v, want the session let in", err)
			}
			v2Session(t, ws).echo(b)
		})
	}
}
