//go:build !js && !wasip1

package main

// The serve command, run in-process as main runs it, on 127.0.0.1:0, and
// reached through the real wasmnet client or a raw WebSocket.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/internal/services"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
	"github.com/wasmnet/wasmnet/wisp"
)

// hang bounds every wait; nothing here judges how fast the bridge is.
const hang = 10 * time.Second

// served is a bridge run by serve.
type served struct {
	wsURL   string // the Wisp endpoint
	httpURL string // the server's root
	metrics string // the metrics endpoint; empty when off
	log     *logBuffer

	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// startServe runs serve with args after flags that keep it on loopback
// with ports of its own. It stops when the test ends.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	clearEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{log: &logBuffer{}, cancel: cancel, done: make(chan error, 1)}
	type addrs struct{ addr, metrics net.Addr }
	ready := make(chan addrs, 1)
	all := append([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-drain-timeout", "2s"}, args...)
	go func() {
		s.done <- serve(ctx, cancel, all, s.log, func(a, m net.Addr) { ready <- addrs{a, m} })
	}()
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("bridge log:\n%s", s.log)
		}
	})
	scheme := "http"
	for _, a := range args {
		if a == "-tls-cert" {
			scheme = "https"
		}
	}
	select {
	case a := <-ready:
		s.httpURL = scheme + "://" + a.addr.String()
		s.wsURL = "ws" + strings.TrimPrefix(s.httpURL, "http") + "/wisp/"
		if a.metrics != nil {
			s.metrics = "http://" + a.metrics.String() + "/metrics"
		}
	case err := <-s.done:
		t.Fatalf("serve %q: %v\n%s", args, err, s.log)
	case <-time.After(hang):
		t.Fatalf("serve %q did not start", args)
	}
	return s
}

// stop ends serve as a signal would and returns its error.
func (s *served) stop(t *testing.T) error {
	t.Helper()
	s.once.Do(func() {
		s.cancel()
		select {
		case s.err = <-s.done:
		case <-time.After(hang):
			t.Fatal("serve did not return after its context ended")
		}
	})
	return s.err
}

// dialer is a wasmnet client for the bridge.
func (s *served) dialer(t *testing.T, token string) *wasmnet.Dialer {
	d := &wasmnet.Dialer{Bridge: s.wsURL, Token: token, Timeout: hang}
	t.Cleanup(func() { d.Close() })
	return d
}

// logBuffer is a log that goroutines may write while a test reads it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// clearEnv unsets the bridge's environment variables for the test, so
// that the machine's own settings change nothing.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "WASMNET_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func startEcho(t *testing.T) string {
	t.Helper()
	echo, err := services.Echo("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { echo.Close() })
	return echo.Addr().String()
}

// roundTrip dials addr through d and checks that the echo server there
// returns what was sent.
func roundTrip(t *testing.T, d *wasmnet.Dialer, addr string) {
	t.Helper()
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s through the bridge: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(hang))
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "hello" {
		t.Fatalf("echo through the bridge: %q, %v", got, err)
	}
}

// eventually polls cond until it holds, failing the test after hang.
func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(hang); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, still not so: %s", hang, what)
		}
	}
}

// closeReason is the Wisp reason a dial or listen failed with.
func closeReason(t *testing.T, err error) wisp.Reason {
	t.Helper()
	var ce *wasmnet.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a stream closed by the bridge with a reason", err)
	}
	return ce.Reason
}

// With no allow rules the bridge refuses every destination, and says so
// when it starts.
func TestServeRefusesEverythingWithoutRules(t *testing.T) {
	echo := startEcho(t)
	s := startServe(t)
	d := s.dialer(t, "")
	_, err := d.Dial("tcp", echo)
	if !errors.Is(err, wasmnet.ErrBlocked) {
		t.Fatalf("dial %s on a bridge without rules: %v, want ErrBlocked", echo, err)
	}
	if !strings.Contains(s.log.String(), "no allow rules: every destination is refused") {
		t.Errorf("the bridge did not warn that it has no allow rules")
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("serve returned %v after a graceful stop", err)
	}
}

// A policy file's rules take effect alongside -allow and -deny.
func TestServePolicyFile(t *testing.T) {
	echo := startEcho(t)
	other := startEcho(t)
	third := startEcho(t)
	file := filepath.Join(t.TempDir(), "policy")
	writeFile(t, file, "# the tests' echo servers\nallow 127.0.0.1/32\ndeny "+other+"\n")
	s := startServe(t, "-policy", file, "-deny", third)
	d := s.dialer(t, "")
	roundTrip(t, d, echo)
	for _, addr := range []string{other, third} {
		if _, err := d.Dial("tcp", addr); !errors.Is(err, wasmnet.ErrBlocked) {
			t.Errorf("dial %s, denied: %v, want ErrBlocked", addr, err)
		}
	}

	// The same rules from the flags alone.
	s = startServe(t, "-allow", "127.0.0.1/32", "-deny", other)
	d = s.dialer(t, "")
	roundTrip(t, d, third)
	if _, err := d.Dial("tcp", other); !errors.Is(err, wasmnet.ErrBlocked) {
		t.Errorf("dial %s, denied by -deny: %v, want ErrBlocked", other, err)
	}
}

// Listening is off unless a flag turns it on.
func TestServeListening(t *testing.T) {
	s := startServe(t)
	_, err := s.dialer(t, "").Listen("tcp", "chat.wasmnet.internal:80")
	if r := closeReason(t, err); r != wisp.ReasonListenDisabled {
		t.Fatalf("LISTEN on a bridge without -endpoints: reason %v, want %v", r, wisp.ReasonListenDisabled)
	}

	s = startServe(t, "-endpoints") // endpoints are the bridge's own: no allow rule needed
	ln, err := s.dialer(t, "").Listen("tcp", "chat.wasmnet.internal:80")
	if err != nil {
		t.Fatalf("LISTEN with -endpoints: %v", err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	roundTrip(t, s.dialer(t, ""), "chat.wasmnet.internal:80")
	if _, err := s.dialer(t, "").Listen("tcp", ":20000"); closeReason(t, err) != wisp.ReasonListenDisabled {
		t.Fatalf("LISTEN on a public port without -listen-ports: %v, want %v", err, wisp.ReasonListenDisabled)
	}
}

// The metrics server serves the bridge's metrics with Go's and the
// process's; the bridge serves /healthz; a stop drains and returns nil.
func TestServeMetricsAndHealth(t *testing.T) {
	echo := startEcho(t)
	s := startServe(t, "-allow", echo)
	roundTrip(t, s.dialer(t, ""), echo)
	// The bridge counts a stream's bytes after its write to the
	// destination returns, which can be after the echo came back.
	want := []string{
		"wasmnet_bridge_sessions_total 1",
		`wasmnet_bridge_streams_total{kind="tcp"} 1`,
		`wasmnet_bridge_bytes_total{direction="up"} 5`,
		"go_goroutines",
		"process_start_time_seconds",
	}
	eventually(t, func() bool {
		body := get(t, http.DefaultClient, s.metrics)
		for _, w := range want {
			if !strings.Contains(body, w) {
				return false
			}
		}
		return true
	}, "the metrics hold "+strings.Join(want, ", "))
	if body := get(t, http.DefaultClient, s.httpURL+"/healthz"); body != "ok\n" {
		t.Errorf("/healthz = %q, want ok", body)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if !strings.Contains(s.log.String(), "stopped") {
		t.Errorf("serve did not log its stop")
	}
}

func TestServeMetricsOff(t *testing.T) {
	s := startServe(t, "-metrics-addr", "")
	if s.metrics != "" {
		t.Fatalf("-metrics-addr '' still serves metrics at %s", s.metrics)
	}
}

// Bad settings stop serve before it listens, each with its own error.
func TestServeBadSettings(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-allow", "a b"}, "-allow"},
		{[]string{"-deny", ":1"}, "-deny"},
		{[]string{"-policy", "/nonexistent/policy"}, "-policy"},
		{[]string{"-trusted-proxies", "proxy"}, "-trusted-proxies"},
		{[]string{"-token-keys", "/nonexistent/key"}, "-token-keys"},
		{[]string{"-token-optional"}, "need -token-keys"},
		{[]string{"-listen-ports", "9-1"}, "-listen-ports"},
		{[]string{"-listen-addr", "127.0.0.1"}, "-listen-addr needs -listen-ports"},
		{[]string{"-credit", "0"}, "-credit"},
		{[]string{"-log", "loud"}, "-log"},
		{[]string{"-log-format", "xml"}, "-log-format"},
		{[]string{"-tls-cert", "cert.pem"}, "go together"},
		{[]string{"-tls-cert", "/nonexistent/c", "-tls-key", "/nonexistent/k"}, "-tls-cert"},
		{[]string{"-tls-cert", "c", "-tls-key", "k", "-acme-domains", "example.com"}, "exclusive"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		// Canceled, so that a serve that does start returns at once.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var log logBuffer
		err := serve(ctx, cancel, append([]string{"-addr", "127.0.0.1:0", "-metrics-addr", ""}, tc.args...), &log,
			func(net.Addr, net.Addr) { t.Errorf("%q: serve started", tc.args) })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("serve %q: %v, want an error about %q", tc.args, err, tc.want)
		}
	}
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
