//go:build !js && !wasip1

package wasmnet_test

// Interoperability with wisp-js (npm @mercuryworkshop/wisp-js), the
// reference JavaScript implementation of Wisp, both ways: its client
// through our bridge, and our client through its server. The Node scripts
// and the pinned package live in testdata/wispjs. These tests fail, never
// skip, when Node or the package is missing: `make test` installs it, or
// run `npm ci --prefix testdata/wispjs` from the repository root.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/bridge"
	"github.com/wasmnet/wasmnet/internal/services"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
	"github.com/wasmnet/wasmnet/wisp"
)

// wispJSVersion is the version pinned in testdata/wispjs/package.json.
const wispJSVersion = "0.5.0"

// hangTimeout bounds each child process and each stream. It only detects
// hangs; a healthy run takes a second or two per case.
const hangTimeout = 2 * time.Minute

func TestWispJSClientToOurBridge(t *testing.T) {
	node, dir := wispJS(t)

	// A small credit makes the wisp-js client stop and wait for our
	// CONTINUE packets many times per megabyte.
	const credit = 8
	rules, err := bridge.ParseRules("127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	h := bridge.NewHandler(bridge.Config{Policy: bridge.Policy{Allow: rules}, Credit: credit})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); h.Close() })
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/"

	echo, err := services.Echo("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Close() })
	host, port, _ := net.SplitHostPort(echo.Addr().String())

	for _, tc := range []struct {
		name                   string
		streams, bytes, chunks int
	}{
		// DATA payloads of up to 64 KiB, the most our bridge accepts: the
		// wisp-js client sends each send() as one packet however large,
		// and the bridge ends a session that sends a bigger one.
		{name: "1MiB", streams: 1, bytes: 1 << 20, chunks: 64 << 10},
		{name: "4streams", streams: 4, bytes: 256 << 10, chunks: 64 << 10},
		// Hundreds of CONTINUE round trips at credit 8. Before the bridge
		// granted back exactly what it had written, a client that kept to
		// its credit still overran the bridge's queue here and lost the
		// stream with reason 0xD0.
		{name: "small-packets", streams: 1, bytes: 50 << 10, chunks: 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := runNode(t, node, dir, "client.mjs", url, host, port,
				"--bytes", strconv.Itoa(tc.bytes),
				"--streams", strconv.Itoa(tc.streams),
				"--max-chunk", strconv.Itoa(tc.chunks),
				"--timeout-ms", strconv.Itoa(int(hangTimeout/time.Millisecond)-10000))
			var res struct {
				OK            bool   `json:"ok"`
				Error         string `json:"error"`
				Streams       int    `json:"streams"`
				Bytes         int    `json:"bytes"`
				WispVersion   int    `json:"wisp_version"`
				InfoReceived  bool   `json:"info_received"`
				InitialCredit int    `json:"initial_credit"`
			}
			if err := json.Unmarshal(lastLine(out), &res); err != nil {
				t.Fatalf("client.mjs printed %q: %v", out, err)
			}
			if !res.OK || res.Streams != tc.streams || res.Bytes != tc.bytes {
				t.Fatalf("client.mjs result %s", lastLine(out))
			}
			// wisp-js falls back to v1 without a word if the handshake is
			// not the one it expects (INFO, then CONTINUE on stream 0).
			if res.WispVersion != 2 || !res.InfoReceived {
				t.Errorf("wisp-js client settled on Wisp v%d (INFO received: %v), want v2", res.WispVersion, res.InfoReceived)
			}
			if res.InitialCredit != credit {
				t.Errorf("wisp-js client took an initial credit of %d, want the bridge's %d", res.InitialCredit, credit)
			}
			t.Logf("wisp-js client: %s", lastLine(out))
		})
	}
}

func TestOurClientToWispJSServer(t *testing.T) {
	node, dir := wispJS(t)
	url := startWispJSServer(t, node, dir)

	echo, err := services.Echo("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Close() })
	addr := echo.Addr().String()

	d := &wasmnet.Dialer{Bridge: url, Timeout: hangTimeout}
	t.Cleanup(func() { d.Close() })

	t.Run("echo", func(t *testing.T) {
		// Around 64 KiB: one DATA packet each way or just over. wisp-js
		// sends what one read of its socket returns, up to 64 KiB.
		for _, n := range []int{1, 1000, 64<<10 - 1, 64 << 10, 64<<10 + 1, 1 << 20, 4 << 20} {
			c := dial(t, d, addr)
			roundTrip(t, c, n, uint64(n))
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
		// Without the OPENED extension the remote address stays the one
		// dialed, which is an IP literal here.
		c := dial(t, d, addr)
		defer c.Close()
		if ra, ok := c.RemoteAddr().(*net.TCPAddr); !ok || ra.String() != addr {
			t.Errorf("RemoteAddr = %#v, want *net.TCPAddr %s", c.RemoteAddr(), addr)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		for i := range 8 {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				c := dial(t, d, addr)
				defer c.Close()
				roundTrip(t, c, 256<<10, uint64(100+i))
			})
		}
	})

	t.Run("CloseWrite", func(t *testing.T) {
		c := dial(t, d, addr)
		defer c.Close()
		// wisp-js announces only its UDP extension, so there is no
		// half-close, and CloseWrite says so rather than closing both ways.
		err := c.CloseWrite()
		var op *net.OpError
		if !errors.As(err, &op) || !strings.Contains(err.Error(), "half-close") {
			t.Fatalf("CloseWrite = %v, want a *net.OpError saying the bridge does not support half-close", err)
		}
		// The failed CloseWrite leaves the stream usable both ways.
		roundTrip(t, c, 100<<10, 7)
	})

	t.Run("remote-close", func(t *testing.T) {
		// A destination that sends and then closes: wisp-js relays the data
		// and then a CLOSE with reason 0x02, which Read reports as io.EOF.
		const n = 1 << 20
		want := pattern(n, 42)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write(want)
			c.Close()
		}()
		c := dial(t, d, ln.Addr().String())
		defer c.Close()
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("ReadAll after %d bytes: %v", len(got), err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("read %d bytes, want %d: %s", len(got), n, firstDiff(got, want))
		}
	})

	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		refused := ln.Addr().String()
		ln.Close()

		// Plain Wisp cannot confirm a connect, and wisp-js does not offer
		// our OPENED extension, so Dial returns at once and the failure
		// arrives later as a CLOSE of the stream. wisp-js sends reason 0x03
		// (network error) for every failed connect, a refusal included,
		// where the spec has 0x44 (connection refused). So the error is
		// ECONNRESET-like, not ECONNREFUSED as through our bridge.
		c, err := d.Dial("tcp", refused)
		if err != nil {
			t.Fatalf("Dial(%s) = %v; through wisp-js it should return at once, with the failure on Read", refused, err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(hangTimeout))
		n, err := c.Read(make([]byte, 10))
		var op *net.OpError
		var ce *wasmnet.CloseError
		if n != 0 || !errors.As(err, &op) || !errors.As(err, &ce) {
			t.Fatalf("Read = %d, %v; want a *net.OpError holding a *wasmnet.CloseError", n, err)
		}
		if ce.Reason != wisp.ReasonNetworkError {
			t.Errorf("close reason = 0x%02x (%v), want 0x%02x, which wisp-js 0.5.0 sends for a refused connect", uint8(ce.Reason), ce.Reason, uint8(wisp.ReasonNetworkError))
		}
		if !errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("Read error %v: errors.Is ECONNRESET = %v, ECONNREFUSED = %v; want true, false",
				err, errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED))
		}
		if _, err := c.Write([]byte("x")); err == nil {
			t.Errorf("Write after the stream was closed succeeded")
		}

		// The session survives a failed stream.
		c2 := dial(t, d, addr)
		defer c2.Close()
		roundTrip(t, c2, 1000, 8)
	})
}

// dial opens a stream, with deadlines that only catch hangs.
func dial(t *testing.T, d *wasmnet.Dialer, addr string) *wasmnet.Conn {
	t.Helper()
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("Dial(%s): %v", addr, err)
	}
	c.SetDeadline(time.Now().Add(hangTimeout))
	return c.(*wasmnet.Conn)
}

// roundTrip writes n bytes to an echo server and checks they come back.
func roundTrip(t *testing.T, c net.Conn, n int, seed uint64) {
	t.Helper()
	want := pattern(n, seed)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(want)
		errc <- err
	}()
	got := make([]byte, n)
	if m, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("%d-byte round trip: read %d bytes: %v", n, m, err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("%d-byte round trip: Write: %v", n, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%d-byte round trip: %s", n, firstDiff(got, want))
	}
}

func pattern(n int, seed uint64) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	rand.NewChaCha8(s).Read(b)
	return b
}

func firstDiff(got, want []byte) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("byte %d is 0x%02x, want 0x%02x", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("got %d bytes, want %d", len(got), len(want))
}

// wispJS returns the path of node and of testdata/wispjs. It fails the
// test, rather than skipping it, when either is missing, so that a machine
// without them can never pass silently.
func wispJS(t *testing.T) (node, dir string) {
	t.Helper()
	dir = filepath.Join(repoRoot(t), "testdata", "wispjs")
	pkg := filepath.Join(dir, "node_modules", "@mercuryworkshop", "wisp-js", "package.json")
	b, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatalf("wisp-js is not installed (%v).\nRun `make test`, or `npm ci --prefix testdata/wispjs` from the repository root.", err)
	}
	var meta struct{ Version string }
	if err := json.Unmarshal(b, &meta); err != nil || meta.Version != wispJSVersion {
		t.Fatalf("%s: version %q (%v), want %s.\nRun `npm ci --prefix testdata/wispjs` from the repository root.", pkg, meta.Version, err, wispJSVersion)
	}
	node, err = exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to run wisp-js: %v", err)
	}
	return node, dir
}

// repoRoot finds the directory of the module's go.mod above the working
// directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/wasmnet/wasmnet\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod of github.com/wasmnet/wasmnet above %s", wd)
		}
		dir = parent
	}
}

// runNode runs a script to completion and returns its stdout. It fails the
// test if the script fails.
func runNode(t *testing.T, node, dir string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if stderr.Len() > 0 {
		t.Logf("%s stderr:\n%s", args[0], stderr.Bytes())
	}
	if err != nil {
		t.Fatalf("node %s: %v (context: %v)\nstdout: %s", strings.Join(args, " "), err, ctx.Err(), stdout.Bytes())
	}
	return stdout.Bytes()
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// startWispJSServer runs testdata/wispjs/server.mjs until the test ends
// and returns its Wisp URL.
func startWispJSServer(t *testing.T, node, dir string) string {
	t.Helper()
	cmd := exec.Command(node, "server.mjs", "--exit-on-stdin-eof")
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe() // closing it stops the server too
	if err != nil {
		t.Fatal(err)
	}
	stdout := &firstLineWriter{line: make(chan []byte, 1)}
	stderr := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		<-exited
		if t.Failed() || testing.Verbose() {
			t.Logf("server.mjs stderr:\n%s", stderr.String())
		}
	})

	var line []byte
	select {
	case line = <-stdout.line:
	case <-exited:
		t.Fatalf("server.mjs exited before listening: %v\nstderr:\n%s", waitErr, stderr.String())
	case <-time.After(hangTimeout):
		t.Fatalf("server.mjs did not report its port within %v\nstderr:\n%s", hangTimeout, stderr.String())
	}
	var info struct {
		Port   int    `json:"port"`
		WispJS string `json:"wisp_js"`
	}
	if err := json.Unmarshal(line, &info); err != nil || info.Port == 0 {
		t.Fatalf("server.mjs printed %q: %v", line, err)
	}
	if info.WispJS != wispJSVersion {
		t.Fatalf("server.mjs runs wisp-js %s, want %s", info.WispJS, wispJSVersion)
	}
	return fmt.Sprintf("ws://127.0.0.1:%d/", info.Port)
}

// firstLineWriter hands over the first line written to it and discards
// the rest.
type firstLineWriter struct {
	mu   sync.Mutex
	buf  []byte
	done bool
	line chan []byte
}

func (w *firstLineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.buf = append(w.buf, p...)
		if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
			w.done = true
			w.line <- w.buf[:i]
		}
	}
	return len(p), nil
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
