//go:build !js && !wasip1

// Package exampletest runs the programs under examples/ the way their tests
// need: built for GOOS=wasip1 and run headless in wazero through a real
// bridge, built for GOOS=js and run under Node.js, or served with a bridge
// to a headless Chromium.
package exampletest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/bridge"
	"github.com/wasmnet/wasmnet/internal/daemon"
	"github.com/wasmnet/wasmnet/internal/webserve"
	"github.com/wasmnet/wasmnet/wasm/host"
)

// Root is the repository root: the directory holding go.mod.
func Root(t testing.TB) string {
	t.Helper()
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Bridge is a bridge started for a test, serving the repository's files
// beside it so that pages under examples/ can load.
type Bridge struct {
	Handler *bridge.Handler
	Server  *httptest.Server
	// URL is the WebSocket URL of the bridge, ending in /wisp/.
	URL string

	mux   *http.ServeMux
	mu    sync.Mutex
	pages map[string]bool
}

// StartBridge starts a bridge whose policy allows exactly rules (see
// bridge.ParseRule), at /wisp/, and serves the repository root at /.
func StartBridge(t testing.TB, rules ...string) *Bridge {
	t.Helper()
	return startBridge(t, nil, rules)
}

// StartListeningBridge is StartBridge with listening on: public ports from
// a range of free loopback ports, and named endpoints.
func StartListeningBridge(t testing.TB, rules ...string) *Bridge {
	t.Helper()
	low, _ := FreePortRange(t, 20)
	return startBridge(t, &bridge.ListenConfig{
		Addr:      netip.MustParseAddr("127.0.0.1"),
		PortLow:   low,
		PortHigh:  low + 19,
		Endpoints: true,
	}, rules)
}

func startBridge(t testing.TB, listen *bridge.ListenConfig, rules []string) *Bridge {
	t.Helper()
	rs, err := bridge.ParseRules(strings.Join(rules, ","))
	if err != nil {
		t.Fatal(err)
	}
	h := bridge.NewHandler(bridge.Config{
		Policy: bridge.Policy{Allow: rs},
		Listen: listen,
		Logger: slog.New(slog.NewTextHandler(testLog{t}, nil)),
	})
	mux := http.NewServeMux()
	mux.Handle("/wisp/", h)
	// Go's own glue, whether or not make wasm has copied it into js/.
	mux.HandleFunc("/js/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, WasmExec(t, "wasm_exec.js"))
	})
	mux.Handle("/", webserve.Static(Root(t)))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); h.Close() })
	return &Bridge{
		Handler: h,
		Server:  srv,
		URL:     "ws" + strings.TrimPrefix(srv.URL, "http") + "/wisp/",
		mux:     mux,
		pages:   map[string]bool{},
	}
}

// PageURL builds the program in dir (such as "examples/ssh") for js,
// serves it as dir/main.wasm beside the page in dir, and returns the URL of
// the page. The test so needs no make wasm.
func (b *Bridge) PageURL(t testing.TB, dir string) string {
	t.Helper()
	wasm := Build(t, dir, "js")
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.pages[dir] {
		b.pages[dir] = true
		b.mux.HandleFunc("/"+dir+"/main.wasm", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/wasm")
			http.ServeFile(w, r, wasm)
		})
	}
	return b.Server.URL + "/" + dir + "/"
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// Build compiles the main package in dir (relative to the repository root,
// such as "examples/smtp") for goos ("wasip1" or "js") and returns the
// path of the .wasm file. Builds are shared by the tests of one process,
// and kept in one place in the user's cache directory, each replaced by
// the next build of the same program.
func Build(t testing.TB, dir, goos string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := dir + " " + goos
	if out, ok := built[key]; ok {
		return out
	}
	out, err := goBuild(dir, strings.ReplaceAll(dir, "/", "-")+"."+goos+".wasm", "GOOS="+goos, "GOARCH=wasm", "CGO_ENABLED=0")
	if err != nil {
		t.Fatalf("building %s for %s: %v", dir, goos, err)
	}
	built[key] = out
	return out
}

// Wazero runs the program in dir, built for wasip1, headless in wazero
// with the given bridge, environment and arguments, and returns what it
// printed. A program that exits with a non-zero status returns a
// *host.ExitError.
//
// It runs the program through the wasmhost command, built without the
// race detector: wazero's compiler, run under it, takes minutes per
// program instead of seconds.
func Wazero(t testing.TB, dir, bridgeURL string, env map[string]string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := wasmhost(t, ctx, Build(t, dir, "wasip1"), bridgeURL, env, args)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		err = &host.ExitError{Code: uint32(exit.ExitCode())}
	}
	return string(out), err
}

// RunWazero is Wazero for a program that must succeed: it fails the test
// if the program fails.
func RunWazero(t testing.TB, dir, bridgeURL string, env map[string]string, args ...string) string {
	t.Helper()
	out, err := Wazero(t, dir, bridgeURL, env, args...)
	if err != nil {
		t.Fatalf("%s under wazero: %v\n%s", dir, err, out)
	}
	return out
}

// StartWazero starts the program in dir under wazero, as Wazero runs it,
// and returns what it prints as it prints it. The program is killed when
// the test ends, or by calling the returned stop.
func StartWazero(t testing.TB, dir, bridgeURL string, env map[string]string, args ...string) (out io.Reader, stop func()) {
	t.Helper()
	cmd := wasmhost(t, context.Background(), Build(t, dir, "wasip1"), bridgeURL, env, args)
	r, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
		})
	}
	t.Cleanup(stop)
	return r, stop
}

// RunWasmhost runs any wasip1 module (such as a test binary) under the
// wasmhost command, as Wazero does, and returns its output and error.
func RunWasmhost(t testing.TB, wasm, bridgeURL string, env map[string]string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := wasmhost(t, ctx, wasm, bridgeURL, env, args).CombinedOutput()
	return string(out), err
}

func wasmhost(t testing.TB, ctx context.Context, wasm, bridgeURL string, env map[string]string, args []string) *exec.Cmd {
	t.Helper()
	hostArgs := []string{"-bridge", bridgeURL}
	for k, v := range env {
		hostArgs = append(hostArgs, "-env", k+"="+v)
	}
	return exec.CommandContext(ctx, buildHost(t), append(append(hostArgs, wasm), args...)...)
}

var (
	hostOnce sync.Once
	hostBin  string
	hostErr  error
)

// buildHost builds wasm/host/cmd/wasmhost once per test process.
func buildHost(t testing.TB) string {
	t.Helper()
	hostOnce.Do(func() {
		hostBin, hostErr = goBuild("wasm/host/cmd/wasmhost", "wasmhost")
	})
	if hostErr != nil {
		t.Fatal(hostErr)
	}
	return hostBin
}

// RunNode runs the program in dir, built for js, under Node.js with the
// given bridge, arguments and environment, and returns what it printed.
// It fails the test if the program fails.
func RunNode(t testing.TB, dir, bridgeURL string, env map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := nodeCmd(t, ctx, dir, bridgeURL, env, args).CombinedOutput()
	if err != nil {
		t.Fatalf("%s under Node.js: %v\n%s", dir, err, out)
	}
	return string(out)
}

// StartNode starts the program in dir, built for js, under Node.js as
// RunNode runs it, and returns what it prints as it prints it. The
// program is killed when the test ends, or by calling the returned stop.
func StartNode(t testing.TB, dir, bridgeURL string, env map[string]string, args ...string) (out io.Reader, stop func()) {
	t.Helper()
	cmd := nodeCmd(t, context.Background(), dir, bridgeURL, env, args)
	r, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
	}
	t.Cleanup(stop)
	return r, stop
}

func nodeCmd(t testing.TB, ctx context.Context, dir, bridgeURL string, env map[string]string, args []string) *exec.Cmd {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed to run GOOS=js programs: install Node.js 20 or later")
	}
	execJS := WasmExec(t, "wasm_exec_node.js")
	cmd := exec.CommandContext(ctx, node, append([]string{"--stack-size=8192", execJS, Build(t, dir, "js")}, args...)...)
	cmd.Env = append(os.Environ(), "NODE_OPTIONS=--experimental-websocket", "WASMNET_BRIDGE="+bridgeURL)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// WasmExec returns the path of one of Go's files for js/wasm, such as
// wasm_exec.js or wasm_exec_node.js, in the GOROOT of the go command on
// the PATH, which is the one running the tests.
func WasmExec(t testing.TB, name string) string {
	t.Helper()
	root, err := goroot()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return filepath.Join(root, "lib", "wasm", name)
}

var goroot = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	return strings.TrimSpace(string(out)), err
})

// FreePortRange finds n consecutive loopback ports that are free now, for
// a bridge to let clients listen on.
func FreePortRange(t testing.TB, n int) (low, high uint16) {
	t.Helper()
	l, h := daemon.FreePorts(t, n)
	return uint16(l), uint16(h)
}

// goBuild builds the package in dir (relative to the repository root) with
// the extra environment, into name in the user's cache directory, and
// returns its path. It builds beside the file and renames, so that test
// processes building the same program at once never see half a file.
func goBuild(dir, name string, env ...string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	root, err := findRoot()
	if err != nil {
		return "", err
	}
	// One directory per checkout, so that two checkouts tested at once
	// never run each other's builds.
	sum := sha256.Sum256([]byte(root))
	outDir := filepath.Join(cache, "wasmnet", "build", hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(outDir, ".build-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("go", "build", "-o", tmp.Name(), "./"+dir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v\n%s", err, b)
	}
	out := filepath.Join(outDir, name)
	return out, os.Rename(tmp.Name(), out)
}
