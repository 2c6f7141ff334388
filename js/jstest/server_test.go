//go:build !js && !wasip1

package jstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/internal/services"
)

// TestTCPServerSocket runs the checks of TCPServerSocket: a public port of
// the bridge that a native client on the host connects to, on a page and
// in a module Worker; the errors; and named endpoints, served in one
// context and dialed from the same one or the other.
func TestTCPServerSocket(t *testing.T) {
	e := startEnv(t)
	ctx := e.page(t)
	for _, where := range []string{"page", "worker"} {
		t.Run(where, func(t *testing.T) {
			t.Run("PublicPort", func(t *testing.T) { testServerPublic(t, e, ctx, where) })
			t.Run("Errors", func(t *testing.T) { testServerErrors(t, e, ctx, where) })
		})
	}
	for _, c := range []struct{ server, client string }{{"page", "page"}, {"page", "worker"}, {"worker", "page"}} {
		t.Run("Endpoint/"+c.server+"To"+c.client, func(t *testing.T) { testEndpoint(t, e, ctx, c.server, c.client) })
	}
}

func testServerPublic(t *testing.T, e *env, ctx context.Context, where string) {
	const size = 1 << 20
	var r struct {
		LocalAddress, Client, RemoteAddress, Digest string
		LocalPort, RemotePort, Received             int
		SocketClosed, Close, Closed                 maybeError
		CloseWhileOpening, LockedClose, InUse       *checkError
		Reopened                                    struct {
			LocalPort int
			Error     *checkError
		}
	}
	run(t, ctx, where, "serverPublic", e.with("size", size), &r)

	low, high := e.cfg["listenLow"].(int), e.cfg["listenHigh"].(int)
	if r.LocalAddress != "127.0.0.1" || r.LocalPort < low || r.LocalPort > high {
		t.Errorf("opened says %s:%d; want 127.0.0.1 and a port from %d to %d", r.LocalAddress, r.LocalPort, low, high)
	}
	// The accepted socket reports the native client's own address.
	if got := net.JoinHostPort(r.RemoteAddress, strconv.Itoa(r.RemotePort)); got != r.Client {
		t.Errorf("the accepted socket says its peer is %s; the client is %s", got, r.Client)
	}
	sum := sha256.Sum256(services.Pattern(size))
	if want := hex.EncodeToString(sum[:]); r.Received != size || r.Digest != want {
		t.Errorf("the page read %d bytes with SHA-256 %s; want %d bytes with %s", r.Received, r.Digest, size, want)
	}
	select {
	case c := <-e.clients:
		if c.Err != nil || c.Local != r.Client || !bytes.Equal(c.Got, c.Sent) {
			t.Errorf("the native client %s read %d of %d bytes back (equal: %v), error %v", c.Local, len(c.Got), len(c.Sent), bytes.Equal(c.Got, c.Sent), c.Err)
		}
	case <-time.After(time.Minute): // a hang guard, not a timing
		t.Fatal("the native client never finished")
	}
	for name, m := range map[string]maybeError{"the accepted socket's closed": r.SocketClosed, "close()": r.Close, "closed": r.Closed} {
		if m.Error != nil {
			t.Errorf("%s: %s; want it resolved", name, m.Error)
		}
	}
	wantError(t, "close() while opening", r.CloseWhileOpening, "InvalidStateError")
	wantError(t, "close() with a reader holding the readable", r.LockedClose, "InvalidStateError", "release")
	if r.Reopened.Error != nil || r.Reopened.LocalPort != r.LocalPort {
		t.Errorf("listening on port %d again after close(): %s (port %d); want it taken at once", r.LocalPort, r.Reopened.Error, r.Reopened.LocalPort)
	}
	wantError(t, "listening on a port in use", r.InUse, "NetworkError", "already taken", strconv.Itoa(r.LocalPort))
}

func testServerErrors(t *testing.T, e *env, ctx context.Context, where string) {
	var r map[string]*checkError
	run(t, ctx, where, "serverErrors", e.cfg, &r)
	wantError(t, "listening below the operator's range", r["outside"], "NotAllowedError", "outside the range", strconv.Itoa(e.cfg["outsidePort"].(int)))
	wantError(t, "listening above the operator's range", r["above"], "NotAllowedError", "outside the range")
	// As in Chromium, close() after a failed open returns closed.
	wantError(t, "close() of a server socket that failed to open", r["closeFailed"], "NotAllowedError", "outside the range")
	if r["outside"] != nil && !r["outside"].DOMException {
		t.Errorf("the refused listen's error is not a DOMException")
	}
	wantError(t, "a host name as localAddress", r["name"], "TypeError", "wasmnet.internal")
	wantError(t, "an endpoint without a port", r["endpointNoPort"], "TypeError", "localPort")
	wantError(t, "localPort 0", r["zeroPort"], "TypeError", "localPort")
	wantError(t, "backlog 0", r["zeroBacklog"], "TypeError", "backlog")
	wantError(t, "ipv6Only with 0.0.0.0", r["ipv6OnlyV4"], "TypeError", "ipv6Only")
	wantError(t, "a TCPSocket to an endpoint nobody listens on", r["nobody"], "NetworkError", "refused")
}

// testEndpoint: a TCPServerSocket on a named endpoint in one context, a
// TCPSocket to that name from another (or the same), 256 KiB echoed.
func testEndpoint(t *testing.T, e *env, ctx context.Context, server, client string) {
	const size = 256 << 10
	name := fmt.Sprintf("chat-%s-%s.wasmnet.internal", server, client)
	cfg := e.with("name", name, "port", 7, "size", size)
	var served struct {
		LocalAddress string
		LocalPort    int
	}
	run(t, ctx, server, "endpointServe", cfg, &served)
	if served.LocalAddress != name || served.LocalPort != 7 {
		t.Errorf("opened says %s:%d; want %s:7", served.LocalAddress, served.LocalPort, name)
	}
	var dialed struct {
		Received int
		Digest   string
		Closed   maybeError
	}
	run(t, ctx, client, "endpointDial", cfg, &dialed)
	var result struct {
		Value *struct {
			Echoed              int
			RemoteAddress       string
			SocketClosed, Close maybeError
		}
		Error *checkError
	}
	run(t, ctx, server, "endpointResult", cfg, &result)

	sum := sha256.Sum256(services.Pattern(size))
	if want := hex.EncodeToString(sum[:]); dialed.Received != size || dialed.Digest != want {
		t.Errorf("the %s read %d bytes back with SHA-256 %s; want %d bytes with %s", client, dialed.Received, dialed.Digest, size, want)
	}
	if dialed.Closed.Error != nil {
		t.Errorf("the dialing socket's closed: %s", dialed.Closed.Error)
	}
	if result.Error != nil || result.Value == nil {
		t.Fatalf("the %s's server: %s", server, result.Error)
	}
	if v := result.Value; v.Echoed != size || v.RemoteAddress == "" || v.SocketClosed.Error != nil || v.Close.Error != nil {
		t.Errorf("the server echoed %d bytes to %q; socket closed: %s, close(): %s", v.Echoed, v.RemoteAddress, v.SocketClosed.Error, v.Close.Error)
	}
}
