package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/wasmnet/wasmnet/internal/services"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// env is what the harness measures against: the targets on loopback and
// the relays in front of them.
type env struct {
	sink, source, echo string // target addresses
	servers            []interface{ Close() error }
	procs              []*exec.Cmd
	tmp                string

	bridgeBin string // built from bridge/cmd/bridge
	bridgeURL string
	bridgePID int
	wispjsURL string
	wsockify  map[string]string // target address -> websockify URL
}

// dialFunc opens a connection to a target through a relay.
type dialFunc func(ctx context.Context, target string) (net.Conn, error)

type relay struct {
	name string
	dial dialFunc
}

func startEnv() (*env, error) {
	e := &env{wsockify: map[string]string{}}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	var err error
	if e.tmp, err = os.MkdirTemp("", "wasmnet-bench-"); err != nil {
		return nil, err
	}

	sink, err := ackSink("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	source, err := holdSource("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	echo, err := services.Echo("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e.servers = append(e.servers, sink, source, echo)
	e.sink, e.source, e.echo = sink.Addr().String(), source.Addr().String(), echo.Addr().String()

	if err := e.startBridge(); err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	if err := e.startWispJS(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: skipping wisp-js: %v\n", err)
	}
	if err := e.startWebsockify(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: skipping websockify: %v\n", err)
	}
	ok = true
	return e, nil
}

// startBridge builds bridge/cmd/bridge and runs it, allowing loopback,
// with the command's defaults except for its bandwidth limit (16 MiB/s per
// session), which would measure itself, and its metrics port.
func (e *env) startBridge() error {
	e.bridgeBin = filepath.Join(e.tmp, "bridge")
	build := exec.Command("go", "build", "-o", e.bridgeBin, "./bridge/cmd/bridge")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building: %v\n%s", err, out)
	}
	b, err := e.newBridge()
	if err != nil {
		return err
	}
	e.bridgeURL, e.bridgePID = b.url, b.pid
	return nil
}

// bridgeProc is a bridge process of its own, for a figure that must not
// include what an earlier one cost.
type bridgeProc struct {
	url string
	pid int
	cmd *exec.Cmd
}

// newBridge starts another bridge process, allowing loopback, with the
// environment settings given (NAME=value). It stops with the env, or
// earlier with stop.
func (e *env) newBridge(settings ...string) (*bridgeProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(e.bridgeBin, "-addr", addr, "-allow", "127.0.0.1/32", "-log", "warn", "-metrics-addr", "")
	// The command's default rate limit (16 MiB/s per session) would cap
	// every figure; the bench measures the relay, not the limit.
	cmd.Env = append(append(os.Environ(), "WASMNET_RATE=0"), settings...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e.procs = append(e.procs, cmd)
	if err := waitTCP(addr); err != nil {
		return nil, err
	}
	return &bridgeProc{url: "ws://" + addr + "/wisp/", pid: cmd.Process.Pid, cmd: cmd}, nil
}

// stop ends the process.
func (b *bridgeProc) stop() {
	b.cmd.Process.Kill()
}

// startWispJS runs the wisp-js server of the interop tests.
func (e *env) startWispJS() error {
	node, err := exec.LookPath("node")
	if err != nil {
		return err
	}
	if _, err := os.Stat("testdata/wispjs/node_modules"); err != nil {
		return errors.New("testdata/wispjs/node_modules is missing: run make deps")
	}
	cmd := exec.Command(node, "testdata/wispjs/server.mjs", "--exit-on-stdin-eof")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if _, err := cmd.StdinPipe(); err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	e.procs = append(e.procs, cmd)
	var hello struct{ Port int }
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		return err
	}
	if err := json.Unmarshal(line, &hello); err != nil {
		return err
	}
	e.wispjsURL = fmt.Sprintf("ws://127.0.0.1:%d/", hello.Port)
	return nil
}

// startWebsockify runs one websockify per target, as it forwards each
// WebSocket to a single fixed target.
func (e *env) startWebsockify() error {
	bin, err := exec.LookPath("websockify")
	if err != nil {
		return errors.New("not installed (apt-get install websockify)")
	}
	for _, target := range []string{e.sink, e.source, e.echo} {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		cmd := exec.Command(bin, addr, target)
		if err := cmd.Start(); err != nil {
			return err
		}
		e.procs = append(e.procs, cmd)
		if err := waitTCP(addr); err != nil {
			return err
		}
		e.wsockify[target] = "ws://" + addr + "/"
	}
	return nil
}

// relays are the ways to reach the targets, raw TCP first.
func (e *env) relays() []relay {
	rs := []relay{{"raw loopback TCP", func(ctx context.Context, target string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", target)
	}}}
	d := &wasmnet.Dialer{Bridge: e.bridgeURL}
	rs = append(rs, relay{"wasmnet bridge", func(ctx context.Context, target string) (net.Conn, error) {
		return d.DialContext(ctx, "tcp", target)
	}})
	if e.wispjsURL != "" {
		wd := &wasmnet.Dialer{Bridge: e.wispjsURL}
		rs = append(rs, relay{"wisp-js 0.5.0 server", func(ctx context.Context, target string) (net.Conn, error) {
			return wd.DialContext(ctx, "tcp", target)
		}})
	}
	if len(e.wsockify) == 3 {
		rs = append(rs, relay{"websockify", func(ctx context.Context, target string) (net.Conn, error) {
			c, _, err := websocket.Dial(ctx, e.wsockify[target], &websocket.DialOptions{Subprotocols: []string{"binary"}})
			if err != nil {
				return nil, err
			}
			c.SetReadLimit(-1)
			return websocket.NetConn(context.Background(), c, websocket.MessageBinary), nil
		}})
	}
	return rs
}

func (e *env) close() {
	for _, p := range e.procs {
		p.Process.Kill()
		p.Wait()
	}
	for _, s := range e.servers {
		s.Close()
	}
	if e.tmp != "" {
		os.RemoveAll(e.tmp)
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

func waitTCP(addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s", addr)
}
