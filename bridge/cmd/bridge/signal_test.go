//go:build !js && !wasip1

package main

// SIGTERM to the bridge command, as a process: it drains and exits. The
// process is the test binary itself, running main() in
// TestBridgeMainProcess, so that the signal arrives the way it does in
// service.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/wasm/wasmnet"
	"github.com/wasmnet/wasmnet/wisp"
)

// signalHang bounds every wait here; it only detects hangs.
const signalHang = 20 * time.Second

const mainArgsEnv = "WASMNET_BRIDGE_MAIN_ARGS"

// TestBridgeMainProcess is not a test of its own: started by
// startBridgeMain, it runs the command's main with the arguments given in
// the environment, one per line.
func TestBridgeMainProcess(t *testing.T) {
	args := os.Getenv(mainArgsEnv)
	if args == "" {
		t.Skip("the bridge process of the signal tests; they start it")
	}
	os.Args = append([]string{"bridge"}, strings.Split(args, "\n")...)
	main()
}

// bridgeMain is a running bridge command and the lines of its log.
type bridgeMain struct {
	cmd  *exec.Cmd
	addr string

	mu   sync.Mutex
	log  []string
	seen chan struct{} // signalled on each log line
	done chan error    // the process's exit
}

// startBridgeMain starts the command with drain as its drain timeout
// (given in the environment, which every version of the flag parsing
// honours) and args.
func startBridgeMain(t *testing.T, drain string, args ...string) *bridgeMain {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBridgeMainProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), mainArgsEnv+"="+strings.Join(args, "\n"), "WASMNET_DRAIN_TIMEOUT="+drain)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &bridgeMain{cmd: cmd, seen: make(chan struct{}, 1), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			b.mu.Lock()
			b.log = append(b.log, sc.Text())
			b.mu.Unlock()
			select {
			case b.seen <- struct{}{}:
			default:
			}
		}
		b.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-b.done
		b.mu.Lock()
		for _, l := range b.log {
			t.Log("bridge: " + l)
		}
		b.mu.Unlock()
	})
	line := b.waitLog(t, `msg="bridge listening"`)
	for _, f := range strings.Fields(line) {
		if a, ok := strings.CutPrefix(f, "addr="); ok {
			b.addr = a
		}
	}
	if b.addr == "" {
		t.Fatalf("no address in %q", line)
	}
	return b
}

// waitLog waits for a log line containing s and returns it.
func (b *bridgeMain) waitLog(t *testing.T, s string) string {
	t.Helper()
	deadline := time.After(signalHang)
	for {
		b.mu.Lock()
		for _, l := range b.log {
			if strings.Contains(l, s) {
				b.mu.Unlock()
				return l
			}
		}
		b.mu.Unlock()
		select {
		case <-b.seen:
		case <-deadline:
			t.Fatalf("the bridge never logged %q", s)
		}
	}
}

// exit waits for the process to end and checks that it ended well.
func (b *bridgeMain) exit(t *testing.T) {
	t.Helper()
	select {
	case err := <-b.done:
		b.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("the bridge exited with %v, want status 0", err)
		}
	case <-time.After(signalHang):
		t.Fatal("the bridge did not exit after SIGTERM")
	}
}

// signalDest is a destination on loopback whose connections the test
// holds.
func signalDest(t *testing.T) (string, <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			conns <- c
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), conns
}

func signalExchange(t *testing.T, c net.Conn, dest net.Conn, msg string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(signalHang))
	dest.SetDeadline(time.Now().Add(signalHang))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(dest, got); err != nil || string(got) != msg {
		t.Fatalf("the destination read %q, %v; want %q", got, err, msg)
	}
	if _, err := dest.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("the client read %q, %v; want %q", got, err, msg)
	}
}

// SIGTERM starts a drain: the open stream goes on, and once it ends by
// itself the session closes and the process exits with status 0.
func TestSIGTERMDrainsAndExits(t *testing.T) {
	addr, conns := signalDest(t)
	b := startBridgeMain(t, "5m", "-addr", "127.0.0.1:0", "-allow", "127.0.0.1/32", "-metrics-addr", "")
	d := &wasmnet.Dialer{Bridge: "ws://" + b.addr + "/wisp/", Timeout: signalHang}
	t.Cleanup(func() { d.Close() })
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	dest := <-conns
	signalExchange(t, c, dest, "before the signal")

	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The handler logs "draining" once it refuses new sessions; the
	// command's "shutting down" comes just before that, and waiting for
	// it alone raced the /healthz check below.
	b.waitLog(t, "msg=draining ")
	// While it drains, the bridge still answers, so that a load balancer
	// moves clients away: /healthz and new sessions get 503.
	res, err := http.Get("http://" + b.addr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz during the drain: %v; want 503", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/healthz during the drain: %d; want 503", res.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), signalHang)
	_, res, err = websocket.Dial(ctx, "ws://"+b.addr+"/wisp/", &websocket.DialOptions{Subprotocols: []string{"wisp-v2"}})
	cancel()
	if err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a new session during the drain: %v (response %v); want 503", err, res)
	}
	// The stream is still served while the bridge drains.
	signalExchange(t, c, dest, "during the drain")

	// The destination ends the stream: its end reaches the client as
	// io.EOF, and the client's Close ends the last stream.
	dest.Close()
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("after the destination closed: %d bytes, %v; want io.EOF", n, err)
	}
	c.Close()
	b.exit(t)
	b.waitLog(t, `msg=stopped`)
}

// At the drain deadline, a stream still open is closed with reason 0xD2,
// which the client sees, and the process exits with status 0.
func TestSIGTERMCutsAtTheDeadline(t *testing.T) {
	addr, conns := signalDest(t)
	b := startBridgeMain(t, "200ms", "-addr", "127.0.0.1:0", "-allow", "127.0.0.1/32", "-metrics-addr", "")
	d := &wasmnet.Dialer{Bridge: "ws://" + b.addr + "/wisp/", Timeout: signalHang}
	t.Cleanup(func() { d.Close() })
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	dest := <-conns
	signalExchange(t, c, dest, "before the signal")

	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(signalHang))
	_, err = c.Read(make([]byte, 1))
	var ce *wasmnet.CloseError
	if !errors.As(err, &ce) || ce.Reason != wisp.ReasonShutdown || !ce.Temporary() {
		t.Fatalf("a stream open at the drain deadline: %v; want a temporary *wasmnet.CloseError with reason 0xD2", err)
	}
	b.exit(t)
	b.waitLog(t, "drain deadline passed")
}
