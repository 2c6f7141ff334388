//go:build !js && !wasip1

// Package jstest tests the JavaScript API of js/ (TCPSocket, UDPSocket,
// TCPServerSocket and the loader) in headless Chromium, on a page and in a
// module Worker, through a real bridge to real servers on loopback. The checks themselves are
// JavaScript, in testdata/checks.js; the tests here start what they talk
// to, run them, and judge what they report.
package jstest

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/bridge"
	"github.com/wasmnet/wasmnet/internal/browser"
	"github.com/wasmnet/wasmnet/internal/exampletest"
	"github.com/wasmnet/wasmnet/internal/services"
	"github.com/wasmnet/wasmnet/internal/webserve"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// serverName is the name on the TLS servers' certificate.
const serverName = "tls.wasmnet.test"

// pageWindow is the receive window of a page's socket that does not ask
// for one.
const pageWindow = wasmnet.DefaultWindow

// env is what the checks talk to: a web server that serves the repository
// and a bridge, and the services behind the bridge.
type env struct {
	srv    *httptest.Server
	bridge *bridge.Handler
	source *services.Server
	ca     *services.CA
	cfg    map[string]any // the configuration checks.js receives

	clients chan clientResult // what each native client of /jstest/client saw

	mu        sync.Mutex
	protocols []string // Sec-WebSocket-Protocol of every bridge request
	crashWasm string   // served at /jstest/crash.wasm
	rootsGets int      // requests for js/roots.pem
}

// root is the repository root, which the web server serves.
func root(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "main.wasm")); err != nil {
		t.Fatal("main.wasm is missing: run make wasm (make test does)")
	}
	if _, err := os.Stat(filepath.Join(dir, "js", "wasm_exec.js")); err != nil {
		t.Fatal("js/wasm_exec.js is missing: run make wasm (make test does)")
	}
	return dir
}

func startEnv(t *testing.T) *env {
	t.Helper()
	e := &env{}
	var err error
	if e.ca, err = services.NewCA(); err != nil {
		t.Fatal(err)
	}
	tlsConf, err := e.ca.ServerTLS(serverName)
	if err != nil {
		t.Fatal(err)
	}
	start := func(s *services.Server, err error) *services.Server {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	echo := start(services.Echo("127.0.0.1:0"))
	e.source = start(services.Source("127.0.0.1:0"))
	sink := start(services.Sink("127.0.0.1:0"))
	tlsEcho := serveTLSEcho(t, tlsConf)
	starttls := serveStartTLSEcho(t, tlsConf)
	refused := freePort(t) // allowed, with nothing listening
	dns, err := services.DNS(services.Zone)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dns.Close() })
	udpEcho, udpEcho2 := serveUDPEcho(t), serveUDPEcho(t)

	allow := []string{echo.Addr().String(), e.source.Addr().String(), sink.Addr().String(), tlsEcho, starttls, refused,
		dns.Addr(), udpEcho, udpEcho2}
	rules, err := bridge.ParseRules(strings.Join(allow, ","))
	if err != nil {
		t.Fatal(err)
	}
	low, high := exampletest.FreePortRange(t, 8)
	e.bridge = bridge.NewHandler(bridge.Config{
		Policy: bridge.Policy{Allow: rules},
		Logger: slog.New(slog.DiscardHandler),
		Listen: &bridge.ListenConfig{
			Addr:      netip.MustParseAddr("127.0.0.1"),
			PortLow:   low,
			PortHigh:  high,
			Endpoints: true,
		},
	})
	e.clients = make(chan clientResult, 4)

	mux := http.NewServeMux()
	mux.HandleFunc("/wisp/", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.protocols = append(e.protocols, r.Header.Values("Sec-WebSocket-Protocol")...)
		e.mu.Unlock()
		e.bridge.ServeHTTP(w, r)
	})
	mux.HandleFunc("/jstest/sent", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]int64{"sent": e.source.Sent.Load()})
	})
	mux.HandleFunc("/jstest/client", e.nativeClient)
	mux.HandleFunc("/jstest/ws/source", wsSource)
	mux.HandleFunc("/jstest/ws/sink", wsSink)
	mux.HandleFunc("/jstest/crash.wasm", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		path := e.crashWasm
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, path)
	})
	static := webserve.Static(root(t))
	mux.HandleFunc("/js/roots.pem", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.rootsGets++
		e.mu.Unlock()
		static.ServeHTTP(w, r)
	})
	mux.Handle("/", static)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		e.bridge.Close()
		e.srv.Close()
	})

	port := func(addr string) int {
		_, p, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(p)
		return n
	}
	e.cfg = map[string]any{
		"host":          "127.0.0.1",
		"echoPort":      echo.Addr().Port,
		"sourcePort":    e.source.Addr().Port,
		"sinkPort":      sink.Addr().Port,
		"tlsPort":       port(tlsEcho),
		"starttlsPort":  port(starttls),
		"refusedPort":   port(refused),
		"forbiddenPort": port(e.srv.Listener.Addr().String()), // a live server the policy does not name
		"dnsPort":       port(dns.Addr()),
		"udpEchoPort":   port(udpEcho),
		"udpEcho2Port":  port(udpEcho2),
		"listenLow":     int(low),
		"listenHigh":    int(high),
		"outsidePort":   int(low) - 1, // below the range the bridge lets clients listen on
		"clientURL":     e.srv.URL + "/jstest/client",
		"ca":            string(e.ca.PEM),
		"serverName":    serverName,
		"sentURL":       e.srv.URL + "/jstest/sent",
		"wsURL":         "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/jstest/ws",
	}
	return e
}

// with returns the configuration with some fields set.
func (e *env) with(kv ...any) map[string]any {
	cfg := map[string]any{}
	for k, v := range e.cfg {
		cfg[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		cfg[kv[i].(string)] = kv[i+1]
	}
	return cfg
}

// page opens the harness page in a fresh Chromium.
func (e *env) page(t *testing.T) context.Context {
	t.Helper()
	return e.reload(t, browser.New(t, 10*time.Minute))
}

// reload opens the harness page anew: a new page, and so new runtimes.
func (e *env) reload(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/js/jstest/testdata/harness.html")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.harnessReady === true`)); err != nil {
		t.Fatal("the harness page did not start:", err)
	}
	quiet(t, ctx)
	return ctx
}

// quiet turns off DevTools' network events for the page, which chromedp
// turns on: with them, every WebSocket frame is copied to the test over
// DevTools, which makes the page's sockets several times slower than a
// Worker's, and any figure taken on the page meaningless.
func quiet(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.Disable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
}

// checkError is what checks.js reports of a JavaScript exception.
type checkError struct {
	Name         string `json:"name"`
	Message      string `json:"message"`
	DOMException bool   `json:"domException"`
	Stack        string `json:"stack"`
}

func (e *checkError) String() string {
	if e == nil {
		return "<no error>"
	}
	return e.Name + ": " + e.Message
}

// run runs check name of checks.js where ("page" or "worker") and decodes
// its result into out. An exception the check did not expect fails the
// test.
func run(t *testing.T, ctx context.Context, where, name string, cfg map[string]any, out any) {
	t.Helper()
	c, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var reply struct {
		OK    json.RawMessage `json:"ok"`
		Error *checkError     `json:"error"`
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](
		fmt.Sprintf("check(%q, %q, %s)", where, name, c), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s in the %s: %v", name, where, err)
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		t.Fatalf("%s in the %s: %v in %s", name, where, err, raw)
	}
	if reply.Error != nil {
		t.Fatalf("%s in the %s threw %s\n%s", name, where, reply.Error, reply.Error.Stack)
	}
	if err := json.Unmarshal(reply.OK, out); err != nil {
		t.Fatalf("%s in the %s: %v in %s", name, where, err, reply.OK)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// serve runs handle for each connection to a new loopback listener.
func serve(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(time.Minute))
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// echoLines answers each line with itself until EOF, then closes its
// side as the client did.
func echoLines(c net.Conn) {
	io.Copy(c, c)
	if tc, ok := c.(*tls.Conn); ok {
		tc.CloseWrite()
	}
}

// serveTLSEcho is an echo server behind TLS from the start.
func serveTLSEcho(t *testing.T, conf *tls.Config) string {
	return serve(t, func(c net.Conn) {
		echoLines(tls.Server(c, conf))
	})
}

// serveStartTLSEcho speaks a tiny STARTTLS protocol: the client sends
// "STARTTLS\n", the server answers "GO\n", and TLS starts; then it echoes.
func serveStartTLSEcho(t *testing.T, conf *tls.Config) string {
	return serve(t, func(c net.Conn) {
		// The limit keeps the reader from taking any of the handshake.
		line, err := bufio.NewReaderSize(io.LimitReader(c, 9), 16).ReadString('\n')
		if err != nil || line != "STARTTLS\n" {
			return
		}
		io.WriteString(c, "GO\n")
		echoLines(tls.Server(c, conf))
	})
}

// wsSource sends ?n= bytes in 64 KiB binary messages.
func wsSource(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	buf := services.Pattern(64 << 10)
	for sent := 0; sent < n; sent += len(buf) {
		if err := ws.Write(r.Context(), websocket.MessageBinary, buf[:min(len(buf), n-sent)]); err != nil {
			return
		}
	}
	ws.Close(websocket.StatusNormalClosure, "")
}

// wsSink reads binary messages until it has ?n= bytes and answers the
// count, as text.
func wsSink(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	got := 0
	for got < n {
		_, rd, err := ws.Reader(r.Context())
		if err != nil {
			return
		}
		m, _ := io.Copy(io.Discard, rd)
		got += int(m)
	}
	ws.Write(r.Context(), websocket.MessageText, []byte(strconv.Itoa(got)))
	ws.Close(websocket.StatusNormalClosure, "")
}

// buildCrash builds testdata/crash, a main.wasm that dies on purpose, and
// serves it at /jstest/crash.wasm.
func (e *env) buildCrash(t *testing.T) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crash.wasm")
	cmd := exec.Command("go", "build", "-o", path, "./testdata/crash")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building testdata/crash: %v\n%s", err, out)
	}
	e.mu.Lock()
	e.crashWasm = path
	e.mu.Unlock()
}

// serveUDPEcho answers each datagram with itself, from a new loopback
// port, and returns its address.
func serveUDPEcho(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1<<16)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
	return pc.LocalAddr().String()
}

// clientResult is what a native client of a TCPServerSocket saw.
type clientResult struct {
	Local string // the client's own address
	Sent  []byte
	Got   []byte
	Err   error
}

// nativeClient serves /jstest/client?port=&size=: a native Go client
// connects to 127.0.0.1:port, a listener of the page on the bridge, sends
// size bytes of the pattern while it reads, half-closes and reads to the
// end; what it read goes to e.clients. The reply, once connected, is the
// client's address, so that the page can check what its socket reports.
func (e *env) nativeClient(w http.ResponseWriter, r *http.Request) {
	size, _ := strconv.Atoi(r.URL.Query().Get("size"))
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", r.URL.Query().Get("port")), 10*time.Second)
	if err != nil {
		e.clients <- clientResult{Err: err}
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	local := c.LocalAddr().String()
	go func() {
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Minute)) // a hang guard
		sent := services.Pattern(size)
		wrote := make(chan error, 1)
		go func() {
			_, err := c.Write(sent)
			c.(*net.TCPConn).CloseWrite()
			wrote <- err
		}()
		got, err := io.ReadAll(c)
		if werr := <-wrote; err == nil {
			err = werr
		}
		e.clients <- clientResult{Local: local, Sent: sent, Got: got, Err: err}
	}()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"client": local})
}
