//go:build !js && !wasip1

package jstest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/internal/services"
)

// TestSockets runs the checks of TCPSocket on a page and in a module
// Worker, against one bridge.
func TestSockets(t *testing.T) {
	e := startEnv(t)
	ctx := e.page(t)
	for _, where := range []string{"page", "worker"} {
		t.Run(where, func(t *testing.T) {
			t.Run("Echo4MiB", func(t *testing.T) { testEcho(t, e, ctx, where) })
			t.Run("Errors", func(t *testing.T) { testErrors(t, e, ctx, where) })
			t.Run("Close", func(t *testing.T) { testClose(t, e, ctx, where) })
			t.Run("DefaultRoots", func(t *testing.T) { testDefaultRoots(t, e, ctx, where) })
			t.Run("TLS", func(t *testing.T) { testTLS(t, e, ctx, where) })
			t.Run("StartTLS", func(t *testing.T) { testStartTLS(t, e, ctx, where) })
			t.Run("StopReading", func(t *testing.T) { testStopReading(t, e, ctx, where, 0) })
			t.Run("StopReadingSmallWindow", func(t *testing.T) { testStopReading(t, e, ctx, where, 64<<10) })
		})
	}
}

type maybeError struct {
	Error *checkError `json:"error"`
}

func testEcho(t *testing.T, e *env, ctx context.Context, where string) {
	const size = 4 << 20
	var r struct {
		Received      int
		Reads         int
		Digest        string
		Closed        maybeError
		RemoteAddress string
		RemotePort    int
		LocalAddress  string
		LocalPort     int
		MS            float64
	}
	run(t, ctx, where, "echo", e.with("size", size), &r)
	sum := sha256.Sum256(services.Pattern(size))
	if want := hex.EncodeToString(sum[:]); r.Received != size || r.Digest != want {
		t.Errorf("echoed %d bytes with SHA-256 %s; want %d bytes with %s", r.Received, r.Digest, size, want)
	}
	if r.Closed.Error != nil {
		t.Errorf("closed after both sides ended: %s; want it resolved", r.Closed.Error)
	}
	if r.RemoteAddress != "127.0.0.1" || r.RemotePort != e.cfg["echoPort"] {
		t.Errorf("opened says remote %s:%d; want 127.0.0.1:%d", r.RemoteAddress, r.RemotePort, e.cfg["echoPort"])
	}
	if r.LocalAddress == "" || r.LocalPort == 0 {
		t.Errorf("opened says local %q:%d; want the bridge's socket address", r.LocalAddress, r.LocalPort)
	}
	t.Logf("4 MiB echoed in %d reads, %.0f ms", r.Reads, r.MS)
}

func testErrors(t *testing.T, e *env, ctx context.Context, where string) {
	var r struct {
		Forbidden, ForbiddenClosed, CloseFailed, Refused, CloseWhileOpening, BadPort *checkError
		BadChunk                                                                     *struct {
			checkError
			LockedClose *checkError
		}
	}
	run(t, ctx, where, "errors", e.cfg, &r)
	forbidden := "127.0.0.1:" + itoa(e.cfg["forbiddenPort"])
	wantError(t, "opened of a forbidden destination", r.Forbidden, "NotAllowedError", "policy", forbidden)
	wantError(t, "closed of a forbidden destination", r.ForbiddenClosed, "NotAllowedError", "policy")
	if r.Forbidden != nil && !r.Forbidden.DOMException {
		t.Errorf("the forbidden destination's error is not a DOMException")
	}
	// As in Chromium, close() after a failed open returns closed.
	wantError(t, "close() of a socket that failed to open", r.CloseFailed, "NotAllowedError", "policy")
	wantError(t, "opened of a port nobody listens on", r.Refused, "NetworkError", "refused", "127.0.0.1:"+itoa(e.cfg["refusedPort"]))
	wantError(t, "close() while opening", r.CloseWhileOpening, "InvalidStateError")
	wantError(t, "new TCPSocket with port 70000", r.BadPort, "TypeError", "port")
	if r.BadChunk == nil {
		t.Fatal("writing a string did not fail")
	}
	wantError(t, "writing a string", &r.BadChunk.checkError, "TypeError", "BufferSource")
	wantError(t, "close() with a reader holding the readable", r.BadChunk.LockedClose, "InvalidStateError", "release")
}

func testClose(t *testing.T, e *env, ctx context.Context, where string) {
	var r struct {
		Line                 string
		Close, Closed, Again maybeError
		Stats                struct{ Streams int }
	}
	run(t, ctx, where, "closing", e.cfg, &r)
	if r.Line != "ping" {
		t.Errorf("echo said %q", r.Line)
	}
	for name, m := range map[string]maybeError{"close()": r.Close, "closed": r.Closed, "close() again": r.Again} {
		if m.Error != nil {
			t.Errorf("%s: %s; want it resolved", name, m.Error)
		}
	}
	if r.Stats.Streams != 0 {
		t.Errorf("the runtime holds %d streams after every socket was closed", r.Stats.Streams)
	}
}

type tlsInfo struct {
	Version, CipherSuite, ServerName string
}

func testTLS(t *testing.T, e *env, ctx context.Context, where string) {
	var r struct {
		TLS  *tlsInfo
		Line string
	}
	run(t, ctx, where, "tlsOn", e.cfg, &r)
	if r.TLS == nil || r.TLS.Version != "TLS 1.3" || r.TLS.ServerName != serverName {
		t.Errorf("opened.tls = %+v; want TLS 1.3 with %s", r.TLS, serverName)
	}
	if r.Line != "over tls" {
		t.Errorf("the TLS echo said %q", r.Line)
	}
}

func testStartTLS(t *testing.T, e *env, ctx context.Context, where string) {
	type result struct {
		Go        string
		Again     *checkError
		TLS       *tlsInfo
		Line      string
		End       bool
		Error     *checkError
		Closed    maybeError
		OldClosed maybeError
		OldWrite  *checkError
		OldRead   struct{ Done bool }
	}
	t.Run("Good", func(t *testing.T) {
		var r result
		run(t, ctx, where, "startTls", e.with("expect", serverName), &r)
		if r.Go != "GO" || r.Error != nil {
			t.Fatalf("STARTTLS: server said %q, then %s", r.Go, r.Error)
		}
		if r.TLS == nil || r.TLS.Version != "TLS 1.3" || r.TLS.ServerName != serverName {
			t.Errorf("the new socket's tls = %+v; want TLS 1.3 with %s", r.TLS, serverName)
		}
		if r.Line != "secret" || !r.End {
			t.Errorf("over TLS the echo said %q, then end=%v", r.Line, r.End)
		}
		if r.Closed.Error != nil || r.OldClosed.Error != nil {
			t.Errorf("closed of the TLS socket: %s; of the plain one: %s; want both resolved", r.Closed.Error, r.OldClosed.Error)
		}
		if r.Again == nil || r.Again.Name != "TypeError" {
			t.Errorf("a second startTls(): %s; want a TypeError", r.Again)
		}
		if r.OldWrite == nil || r.OldWrite.Name != "InvalidStateError" || !r.OldRead.Done {
			t.Errorf("the plain socket after startTls: write %s, read done=%v; want InvalidStateError and done", r.OldWrite, r.OldRead.Done)
		}
	})
	t.Run("WrongName", func(t *testing.T) {
		var r result
		run(t, ctx, where, "startTls", e.with("expect", "wrong.wasmnet.test"), &r)
		if r.Error == nil || r.Error.Name != "SecurityError" || !strings.Contains(r.Error.Message, "wrong.wasmnet.test") ||
			!strings.Contains(r.Error.Message, "not valid for") {
			t.Errorf("startTls with the wrong name: %s; want a SecurityError that names both", r.Error)
		}
	})
	t.Run("UnknownCA", func(t *testing.T) {
		var r result
		run(t, ctx, where, "startTls", e.with("expect", serverName, "withCA", false), &r)
		if r.Error == nil || r.Error.Name != "SecurityError" || !strings.Contains(r.Error.Message, "unknown authority") ||
			!strings.Contains(r.Error.Message, "caCerts") {
			t.Errorf("startTls without the CA: %s; want a SecurityError about an unknown authority and caCerts", r.Error)
		}
	})
}

// testStopReading reads an endless source, stops reading for a while and
// checks that the tab's memory stays bounded while the server keeps
// trying to send: the window holds the bridge back, the bridge stops
// reading from the server, and the server's writes block. An
// implementation that read ahead of the page (a high-water mark on the
// readable, a read loop) would let the server send hundreds of MiB, and
// its count would not settle. The page waits for the count to settle
// rather than a fixed time, which a busy machine could outlast.
func testStopReading(t *testing.T, e *env, ctx context.Context, where string, window int) {
	const (
		first = 1 << 20
		after = 2 << 20
		quiet = 1000  // ms without a byte sent that count as settled
		limit = 30000 // ms to wait at most for that
		hold  = 1000  // ms to go on not reading, once settled
	)
	type snapshot struct {
		Sent  int64
		Read  int64
		Heap  *int64
		Stats struct{ RecvBuffered, WasmMemory int64 }
	}
	var r struct {
		Stopped, Mid, End, Resumed snapshot
		Mismatches                 int
		Settled                    bool
	}
	cfg := e.with("first", first, "after", after, "quiet", quiet, "limit", limit, "hold", hold)
	if window > 0 {
		cfg["receiveBufferSize"] = window
	}
	run(t, ctx, where, "stopReading", cfg, &r)

	if window == 0 {
		window = pageWindow
	}
	if r.Mismatches != 0 {
		t.Errorf("%d bytes differ from what the source sends", r.Mismatches)
	}
	// While the page reads nothing, the data waits in Go, bounded by the
	// window: all of it, less what was read and not yet returned to the
	// bridge (up to a quarter of the window and one read). An empty Go
	// buffer would mean that something read on without the page, into
	// JavaScript memory that nothing bounds.
	if got := r.End.Stats.RecvBuffered; got > int64(window) || got < int64(window)/2 {
		t.Errorf("while the page read nothing the runtime held %d KiB; want the receive window's %d KiB, or most of it", got>>10, window>>10)
	}
	// What may be in flight while the page reads nothing: the window, and
	// the kernel's buffers at both ends of the bridge's socket to the
	// server, at most as large as Linux lets them grow.
	bound := int64(window) + sysctlMax(t, "tcp_rmem") + sysctlMax(t, "tcp_wmem") + 1<<20
	if got := r.End.Sent - r.Stopped.Read; got > bound {
		t.Errorf("the server sent %d KiB more than the page read; want at most %d KiB in flight", got>>10, bound>>10)
	}
	if !r.Settled {
		t.Errorf("the server was still sending %v after the page stopped reading; want it held back", time.Duration(limit)*time.Millisecond)
	}
	if got := r.End.Sent - r.Mid.Sent; got > 4<<20 {
		t.Errorf("the server sent %d KiB more in the %d ms after it had settled; want it stopped", got>>10, hold)
	}
	if got := r.End.Stats.WasmMemory - r.Stopped.Stats.WasmMemory; got > 16<<20 {
		t.Errorf("the Go runtime's memory grew by %d MiB during the pause", got>>20)
	}
	if r.Stopped.Heap != nil && r.End.Heap != nil {
		if got := *r.End.Heap - *r.Stopped.Heap; got > 32<<20 {
			t.Errorf("the JS heap grew by %d MiB during the pause", got>>20)
		}
	} else if where == "page" {
		t.Error("performance.memory is missing on the page: is --enable-precise-memory-info passed?")
	}
	// The server was blocked, not gone: once the page reads again, it
	// sends again.
	if r.Resumed.Sent <= r.End.Sent || r.Resumed.Read < r.End.Sent+after {
		t.Errorf("after the pause the server sent %d more bytes, and the page read %d past what it had sent by then; want it sending again",
			r.Resumed.Sent-r.End.Sent, r.Resumed.Read-r.End.Sent)
	}
	t.Logf("paused: server sent %d KiB more (%d KiB once settled), %d KiB in flight; runtime held %d KiB; wasm memory %d MiB",
		(r.End.Sent-r.Stopped.Sent)>>10, (r.End.Sent-r.Mid.Sent)>>10, (r.End.Sent-r.Stopped.Read)>>10, r.End.Stats.RecvBuffered>>10, r.End.Stats.WasmMemory>>20)
}

func itoa(v any) string { return fmt.Sprint(v) }

// sysctlMax is the largest size Linux gives a TCP socket buffer
// (net.ipv4.tcp_rmem or tcp_wmem), or 32 MiB where it cannot be read.
func sysctlMax(t *testing.T, name string) int64 {
	b, err := os.ReadFile("/proc/sys/net/ipv4/" + name)
	if f := strings.Fields(string(b)); err == nil && len(f) == 3 {
		if n, err := strconv.ParseInt(f[2], 10, 64); err == nil {
			return n
		}
	}
	t.Logf("%s unknown: taking 32 MiB", name)
	return 32 << 20
}

// testDefaultRoots: the default roots (js/roots.pem) are fetched once, by
// the first handshake that needs them, not with main.wasm; a server whose
// CA is not among them is refused for an unknown authority.
func testDefaultRoots(t *testing.T, e *env, ctx context.Context, where string) {
	e.mu.Lock()
	gets := e.rootsGets
	e.mu.Unlock()
	var r struct {
		Before, After int
		Error         *checkError
	}
	run(t, ctx, where, "defaultRoots", e.cfg, &r)
	if r.Before != 0 {
		t.Errorf("%d default roots loaded before any TLS socket; want none", r.Before)
	}
	if r.After < 100 {
		t.Errorf("%d default roots loaded after a TLS socket without caCerts; want Mozilla's (over 100)", r.After)
	}
	if r.Error == nil || r.Error.Name != "SecurityError" || !strings.Contains(r.Error.Message, "unknown authority") {
		t.Errorf("TLS to a server of the test CA without caCerts: %v; want a SecurityError for an unknown authority", r.Error)
	}
	e.mu.Lock()
	gets = e.rootsGets - gets
	e.mu.Unlock()
	if gets != 1 {
		t.Errorf("js/roots.pem was fetched %d times by the %s; want once", gets, where)
	}
}
