//go:build !js && !wasip1

package wasmnet_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/bridge"
	"github.com/wasmnet/wasmnet/internal/buffer"
	"github.com/wasmnet/wasmnet/internal/services"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// startBridge starts a bridge that may reach loopback.
func startBridge(t *testing.T) (*bridge.Handler, *httptest.Server, string) {
	t.Helper()
	rules, err := bridge.ParseRules("127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	h := bridge.NewHandler(bridge.Config{
		Policy: bridge.Policy{Allow: rules},
		Logger: slog.New(slog.DiscardHandler),
	})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); h.Close() })
	return h, srv, "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
}

// TestFlowControl: a destination sends 256 MiB to a program that does not
// read. What the bridge and the client hold stays under a small bound, and
// backpressure reaches the destination. When the program reads again,
// every byte arrives intact.
func TestFlowControl(t *testing.T) {
	const total = 256 << 20
	const window = 256 << 10
	h, _, url := startBridge(t)
	src, err := services.Source("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	d := &wasmnet.Dialer{Bridge: url, Window: window}
	defer d.Close()
	c, err := d.Dial("tcp", src.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := binary.Write(c, binary.BigEndian, uint64(total)); err != nil {
		t.Fatal(err)
	}

	// Wait until nothing moves any more: the source is blocked.
	var last int64 = -1
	for stable := 0; stable < 10; {
		time.Sleep(50 * time.Millisecond)
		if sent := src.Sent.Load(); sent == last {
			stable++
		} else {
			last, stable = sent, 0
		}
		if last >= total {
			t.Fatal("the source sent everything although nobody read")
		}
	}
	bridgeHeld := h.Stats().Buffered
	clientHeld := d.Stats().RecvBuffered
	t.Logf("source blocked after %d bytes; bridge holds %d, client holds %d", last, bridgeHeld, clientHeld)
	// The bridge holds at most a window in flight to the client, plus one
	// read; the client at most its window.
	if limit := int64(window + buffer.MaxPayload); bridgeHeld > limit {
		t.Errorf("bridge holds %d bytes, over %d", bridgeHeld, limit)
	}
	if clientHeld > window {
		t.Errorf("client holds %d bytes, over its window of %d", clientHeld, window)
	}
	// Kernel buffers on both sockets hold the rest; it must be a sliver of
	// the total.
	if last > 32<<20 {
		t.Errorf("source got %d bytes out before blocking", last)
	}

	got := sha256.New()
	n, err := io.Copy(got, c)
	if err != nil {
		t.Fatal(err)
	}
	if n != total {
		t.Fatalf("read %d bytes, want %d", n, total)
	}
	want := sha256.New()
	pattern := services.Pattern(64 << 10)
	for i := 0; i < total; i += len(pattern) {
		want.Write(pattern[:min(len(pattern), total-i)])
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Error("the data arrived corrupted")
	}
}

// TestBridgeDies: when the bridge goes away mid-transfer, a pending Read
// and a pending Write both return errors, and the next dial fails cleanly.
func TestBridgeDies(t *testing.T) {
	h, srv, url := startBridge(t)
	src, err := services.Source("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sink, err := services.Sink("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()

	d := &wasmnet.Dialer{Bridge: url}
	defer d.Close()
	down, err := d.Dial("tcp", src.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	up, err := d.Dial("tcp", sink.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	binary.Write(down, binary.BigEndian, uint64(0)) // endless

	// Each side signals once, by closing its channel, that data flows.
	reading, writing := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 2)
	go func() {
		buf := make([]byte, 32<<10)
		var n int
		for {
			m, err := down.Read(buf)
			if n += m; n > 1<<20 && n-m <= 1<<20 { // crossing 1 MiB
				close(reading)
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		buf := make([]byte, 32<<10)
		for i := 0; ; i++ {
			if _, err := up.Write(buf); err != nil {
				errs <- err
				return
			}
			if i == 32 {
				close(writing)
			}
		}
	}()
	<-reading
	<-writing

	srv.CloseClientConnections()
	srv.Close()
	h.Close()

	hang := time.After(20 * time.Second)
	for range 2 {
		select {
		case err := <-errs:
			var opErr *net.OpError
			var brErr *wasmnet.BridgeError
			if !errors.As(err, &opErr) || !errors.As(err, &brErr) {
				t.Errorf("got %T %v, want a *net.OpError wrapping a *wasmnet.BridgeError", err, err)
			}
		case <-hang:
			t.Fatal("a Read or Write still hangs after the bridge went away")
		}
	}
	if _, err := d.Dial("tcp", src.Addr().String()); err == nil {
		t.Error("dial through a dead bridge succeeded")
	}
}
