//go:build !js && !wasip1

package bridge

// Faults, seen through the real native wasmnet client: a destination that
// resets, a client that vanishes without a close (its connection goes
// silent, or its process is killed), and a bridge restarted under load.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/internal/daemon"
	"github.com/wasmnet/wasmnet/internal/services"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// A destination's reset reaches the program as a *net.OpError that
// matches syscall.ECONNRESET, on Read and on Write, as with a native
// socket.
func TestDestinationResetReachesClient(t *testing.T) {
	b := loopbackBridge(t)
	dest := listen(t, nil)
	d := &wasmnet.Dialer{Bridge: b.url, Timeout: hang}
	t.Cleanup(func() { d.Close() })
	c, err := d.Dial("tcp", dest.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn := dest.accept(t)

	// Read what came before the reset first: a reset may discard data
	// still in the bridge's receive buffer, as it would for any socket.
	if _, err := conn.Write([]byte("before")); err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(hang))
	got := make([]byte, len("before"))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "before" {
		t.Fatalf("read %q, %v", got, err)
	}
	conn.SetLinger(0)
	conn.Close()

	_, err = c.Read(make([]byte, 1))
	checkReset(t, "Read", err)
	_, err = c.Write([]byte("after"))
	checkReset(t, "Write", err)
}

func checkReset(t *testing.T, op string, err error) {
	t.Helper()
	var oe *net.OpError
	if !errors.As(err, &oe) || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("%s after the destination's reset: %T %v; want a *net.OpError matching ECONNRESET", op, err, err)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s timed out instead of seeing the reset", op)
	}
	var ce *wasmnet.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("%s: %v does not carry a *wasmnet.CloseError", op, err)
	}
}

// cutProxy relays TCP between clients and a bridge until it is cut:
// then it forwards nothing more either way, and closes nothing, as when a
// client's machine drops off the network. frozen stops reading as well,
// so that the bridge's writes back up; otherwise what comes is dropped.
type cutProxy struct {
	ln     net.Listener
	frozen bool
	cut    atomic.Bool
	halt   chan struct{} // closed by stop

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func newCutProxy(t *testing.T, target string, frozen bool) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, frozen: frozen, halt: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pipe(up, c)
			go p.pipe(c, up)
		}
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *cutProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		if p.cut.Load() && p.frozen {
			<-p.halt
			return
		}
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if p.cut.Load() {
			continue // dropped
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (p *cutProxy) url() string { return "ws://" + p.ln.Addr().String() + "/" }

// stop closes everything the proxy holds.
func (p *cutProxy) stop() {
	select {
	case <-p.halt:
		return
	default:
	}
	close(p.halt)
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// A client that vanishes without closing its WebSocket loses its session
// within the idle timeout: the bridge hears no pong, and resets the
// destinations of its streams.
func TestVanishedClientReleasesDestinations(t *testing.T) {
	t.Parallel() // it waits for its timeouts
	for _, frozen := range []bool{false, true} {
		t.Run(fmt.Sprintf("frozen=%v", frozen), func(t *testing.T) {
			t.Parallel()
			b := startBridge(t, Config{
				Policy: Policy{Allow: []Rule{mustRule(t, "127.0.0.1/32")}},
				// Room for the live client's pongs on a busy machine: the
				// bridge pings at half of it and drops at all of it.
				IdleTimeout: 3 * time.Second,
			})
			dest := listen(t, nil)
			p := newCutProxy(t, strings.TrimSuffix(strings.TrimPrefix(b.url, "ws://"), "/"), frozen)
			d := &wasmnet.Dialer{Bridge: p.url(), Timeout: hang}
			t.Cleanup(func() { p.stop(); d.Close() }) // the proxy first, so that Close does not wait

			var conns []*net.TCPConn
			for range 3 {
				c, err := d.Dial("tcp", dest.addr())
				if err != nil {
					t.Fatal(err)
				}
				conn := dest.accept(t)
				c.SetDeadline(time.Now().Add(hang))
				if _, err := c.Write([]byte("x")); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(conn, make([]byte, 1)); err != nil {
					t.Fatal(err)
				}
				conns = append(conns, conn)
			}
			// A live client keeps its session past the idle timeout: it
			// answers the bridge's pings.
			waitFor(t, "a ping answered", func() bool { return b.h.stats.sessions.Load() == 1 && pinged(b.h) })

			p.cut.Store(true)
			for i, conn := range conns {
				conn.SetReadDeadline(time.Now().Add(3 * hang))
				n, err := conn.Read(make([]byte, 1))
				if n != 0 || (err != io.EOF && !errors.Is(err, syscall.ECONNRESET)) {
					t.Fatalf("destination %d: read %d bytes, %v; want the bridge's reset or EOF", i, n, err)
				}
			}
			b.waitIdle(t)
		})
	}
}

// pinged reports whether the bridge's one session has had a pong: its
// client was seen after the session's last packet.
func pinged(h *Handler) bool {
	for _, s := range h.sessionList() {
		if s.lastSeen.Load() > s.lastPacket.Load() {
			return true
		}
	}
	return false
}

// A bridge stopped while streams move data fails them cleanly, with a
// *wasmnet.BridgeError and no hang; a new bridge on the same address
// then serves new dials on the same Dialer, as a page would without
// reloading.
func TestBridgeRestartUnderLoad(t *testing.T) {
	es, err := services.Echo("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { es.Close() })
	echo := es.Addr().String()
	rule := mustRule(t, "127.0.0.1/32")
	// start serves a new bridge on addr and returns its address and how
	// to stop it at once.
	start := func(addr string) (string, func()) {
		h := NewHandler(Config{Policy: Policy{Allow: []Rule{rule}}, Logger: slog.New(slog.NewTextHandler(testLog{t}, nil))})
		h.socketGuard = loopbackOnly
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: h}
		go srv.Serve(ln)
		var once sync.Once
		stop := func() {
			once.Do(func() {
				srv.Close()
				h.Close()
			})
		}
		t.Cleanup(stop)
		return ln.Addr().String(), stop
	}
	// A port below the ephemeral range, which no connection can be given
	// while the bridge is down.
	addr, stop := start(fmt.Sprintf("127.0.0.1:%d", daemon.FreePort(t)))
	d := &wasmnet.Dialer{Bridge: "ws://" + addr + "/", Timeout: hang}
	t.Cleanup(func() { d.Close() })

	// Each stream echoes 16 KiB chunks, checking every byte, until the
	// bridge goes.
	const streams = 8
	var rounds atomic.Int64
	errs := make(chan error, streams)
	for i := range streams {
		c, err := d.Dial("tcp", echo)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		go func() {
			c.SetDeadline(time.Now().Add(3 * hang)) // a hang guard only
			got := make([]byte, 16<<10)
			for r := uint64(0); ; r++ {
				want := randomBytes(uint64(i)<<32|r, len(got))
				if _, err := c.Write(want); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(c, got); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, want) {
					errs <- fmt.Errorf("stream %d, round %d: the echo differs", i, r)
					return
				}
				rounds.Add(1)
			}
		}()
	}
	waitFor(t, "data moving on every stream", func() bool { return rounds.Load() >= 10*streams })
	stop()
	for range streams {
		err := <-errs
		var be *wasmnet.BridgeError
		var oe *net.OpError
		if !errors.As(err, &be) || !errors.As(err, &oe) {
			t.Fatalf("a stream of the stopped bridge failed with %T %v; want a *net.OpError carrying a *wasmnet.BridgeError", err, err)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a stream hung until its deadline: %v", err)
		}
	}

	// The same Dialer reaches the new bridge on the same address.
	start(addr)
	for i := range streams {
		c, err := d.Dial("tcp", echo)
		if err != nil {
			t.Fatalf("dial %d through the restarted bridge: %v", i, err)
		}
		c.SetDeadline(time.Now().Add(hang))
		msg := []byte(fmt.Sprintf("after the restart %d", i))
		got := make([]byte, len(msg))
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo through the restarted bridge: %q, %v", got, err)
		}
		c.Close()
	}
}

const clientProcessEnv = "WASMNET_CLIENT_PROCESS"

// TestClientProcess is not a test of its own: started by
// TestKilledClientReleasesDestinations, it dials a destination through a
// bridge, proves the stream works, says "ready" and waits to be killed.
func TestClientProcess(t *testing.T) {
	spec := os.Getenv(clientProcessEnv)
	if spec == "" {
		t.Skip("the client process of TestKilledClientReleasesDestinations, which starts it")
	}
	url, dest, _ := strings.Cut(spec, " ")
	d := &wasmnet.Dialer{Bridge: url, Timeout: hang}
	c, err := d.Dial("tcp", dest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("ready\n")
	io.Copy(io.Discard, os.Stdin) // until killed
}

// A client process killed mid-stream loses its session at once (its
// kernel closes the socket under the WebSocket), and the bridge resets
// the destination of its stream.
func TestKilledClientReleasesDestinations(t *testing.T) {
	b := loopbackBridge(t)
	dest := listen(t, nil)
	cmd, stdin, stdout := startTestProcess(t, "TestClientProcess", clientProcessEnv+"="+b.url+" "+dest.addr())
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	conn := dest.accept(t)
	if _, err := io.ReadFull(conn, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("the client process said %q", line)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(hang))
	n, err := conn.Read(make([]byte, 1))
	if n != 0 || (err != io.EOF && !errors.Is(err, syscall.ECONNRESET)) {
		t.Fatalf("destination: read %d bytes, %v; want the bridge's reset or EOF", n, err)
	}
	b.waitIdle(t)
}
