//go:build !js && !wasip1

package wasmnet_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
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

// TestListenPublic: a listener on a public port of the bridge, reached by
// a native client, which the listener sees with its real address.
func TestListenPublic(t *testing.T) {
	_, url := newTestBridge(t, "")
	d := &wasmnet.Dialer{Bridge: url}
	defer d.Close()
	l, err := d.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.IsLoopback() || addr.Port == 0 {
		t.Fatalf("Addr is %v (%T), want 127.0.0.1 and the port bound", l.Addr(), l.Addr())
	}

	native, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer native.Close()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.RemoteAddr().String() != native.LocalAddr().String() {
		t.Errorf("accepted connection is from %v, the client is %v", c.RemoteAddr(), native.LocalAddr())
	}
	io.WriteString(native, "from outside")
	native.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "from outside" {
		t.Fatalf("tab read %q, %v", got, err)
	}
	io.WriteString(c, "from the tab")
	c.(*wasmnet.Conn).CloseWrite()
	got, err = io.ReadAll(native)
	if err != nil || string(got) != "from the tab" {
		t.Fatalf("native client read %q, %v", got, err)
	}
}

// TestHTTPServerOnPublicPort serves net/http on a listener through the
// bridge; 50 native clients at once fetch a page and a 1 MiB body, which
// must arrive byte for byte.
func TestHTTPServerOnPublicPort(t *testing.T) {
	_, url := newTestBridge(t, "")
	d := &wasmnet.Dialer{Bridge: url}
	defer d.Close()
	l, err := d.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	blob := services.Pattern(1 << 20)
	want := sha256.Sum256(blob)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "hello %s", r.RemoteAddr) })
	mux.HandleFunc("/blob", func(w http.ResponseWriter, r *http.Request) { w.Write(blob) })
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	defer srv.Close()

	base := "http://" + l.Addr().String()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/"
			if i%2 == 0 {
				path = "/blob"
			}
			res, err := http.Get(base + path)
			if err != nil {
				errs <- err
				return
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			switch {
			case err != nil:
				errs <- err
			case path == "/blob" && sha256.Sum256(body) != want:
				errs <- fmt.Errorf("request %d: the 1 MiB body arrived corrupted (%d bytes)", i, len(body))
			case path == "/" && !strings.HasPrefix(string(body), "hello 127.0.0.1:"):
				errs <- fmt.Errorf("request %d: %q", i, body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestListenLimits: what the bridge refuses, each with its own error, and
// that losing a session frees its port and name at once.
func TestListenLimits(t *testing.T) {
	h, url := newTestBridge(t, "")
	a := &wasmnet.Dialer{Bridge: url}
	defer a.Close()
	b := &wasmnet.Dialer{Bridge: url}
	defer b.Close()

	l, err := a.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	addr := fmt.Sprintf(":%d", port)
	if _, err := b.Listen("tcp", addr); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("a port in use: %v, want EADDRINUSE", err)
	}
	if _, err := a.Listen("tcp", ":1"); !isReason(err, wisp.ReasonPortRange) {
		t.Errorf("a port outside the range: %v", err)
	}
	if _, err := a.Listen("tcp", "chat.wasmnet.internal:80"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Listen("tcp", "chat.wasmnet.internal:80"); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("an endpoint in use: %v, want EADDRINUSE", err)
	}
	if _, err := b.Dial("tcp", "nobody.wasmnet.internal:80"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dialing an endpoint nobody listens on: %v, want ECONNREFUSED", err)
	}
	if _, err := a.Listen("tcp", "example.com:80"); err == nil {
		t.Error("listening on a host name succeeded")
	}

	// Losing the session frees the port and the name at once.
	a.Close()
	waitFor(t, func() bool { return h.Stats().Listeners == 0 })
	l2, err := b.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port of a lost session: %v", err)
	}
	l2.Close()
	if _, err := b.Listen("tcp", "chat.wasmnet.internal:80"); err != nil {
		t.Fatalf("the name of a lost session: %v", err)
	}
}

// TestListenDisabled: a bridge that does not listen says so.
func TestListenDisabled(t *testing.T) {
	hb := bridge.NewHandler(bridge.Config{Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(hb)
	defer srv.Close()
	defer hb.Close()
	d := &wasmnet.Dialer{Bridge: "ws" + strings.TrimPrefix(srv.URL, "http") + "/"}
	defer d.Close()
	_, err := d.Listen("tcp", ":0")
	if !isReason(err, wisp.ReasonListenDisabled) || !strings.Contains(err.Error(), "listening is not enabled on the bridge") {
		t.Errorf("listening on a bridge that does not listen: %v", err)
	}
}

func isReason(err error, r wisp.Reason) bool {
	var ce *wasmnet.CloseError
	return errors.As(err, &ce) && ce.Reason == r
}

// waitFor polls cond, as a hang detector, not a timing assertion.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition never held")
}
