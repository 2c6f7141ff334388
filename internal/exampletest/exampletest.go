// Package exampletest runs the programs under examples/ the way their tests
// need: built for GOOS=wasip1 and run headless in wazero through a real
// bridge, built for GOOS=js and run under Node.js, or served with a bridge
// to a headless Chromium.
package exampletest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/bridge"
	"github.com/wasmnet/wasmnet/internal/webserve"
	"github.com/wasmnet/wasmnet/wasm/host"
)

// Root is the repository root: the directory holding go.mod.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
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
	low := freePorts(t, 20)
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
		http.ServeFile(w, r, filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
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
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	outDir := filepath.Join(cache, "wasmnet", "examples")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(outDir, strings.ReplaceAll(dir, "/", "-")+"."+goos+".wasm")
	// Build beside it and rename, so that test processes building the same
	// program at once never see half a file.
	tmp, err := os.CreateTemp(outDir, ".build-*")
	if err != nil {
		t.Fatal(err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("go", "build", "-o", tmp.Name(), "./"+dir)
	cmd.Dir = Root(t)
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s for %s: %v\n%s", dir, goos, err, b)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		t.Fatal(err)
	}
	built[key] = out
	return out
}

// RunWazero runs the program in dir, built for wasip1, under the wazero
// host with the given bridge, arguments and environment, and returns what
// it printed. It fails the test if the program fails.
func RunWazero(t testing.TB, dir, bridgeURL string, env map[string]string, args ...string) string {
	t.Helper()
	wasm, err := os.ReadFile(Build(t, dir, "wasip1"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out syncBuffer
	err = host.Run(ctx, wasm, host.Config{Bridge: bridgeURL, Args: args, Env: env, Output: &out})
	if err != nil {
		t.Fatalf("%s under wazero: %v\n%s", dir, err, out.String())
	}
	return out.String()
}

// RunNode runs the program in dir, built for js, under Node.js with the
// given bridge, arguments and environment, and returns what it printed.
// It fails the test if the program fails.
func RunNode(t testing.TB, dir, bridgeURL string, env map[string]string, args ...string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed to run GOOS=js programs: install Node.js 20 or later")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	execJS := filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec_node.js")
	cmd := exec.CommandContext(ctx, node, append([]string{"--stack-size=8192", execJS, Build(t, dir, "js")}, args...)...)
	cmd.Env = append(os.Environ(), "NODE_OPTIONS=--experimental-websocket", "WASMNET_BRIDGE="+bridgeURL)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s under Node.js: %v\n%s", dir, err, out)
	}
	return string(out)
}

type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// freePorts finds n consecutive loopback ports that are free now and
// returns the first.
func freePorts(t testing.TB, n int) uint16 {
	t.Helper()
	for start := 30000 + rand.IntN(20000); start+n < 65000; start += n {
		free := true
		for p := start; p < start+n && free; p++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				continue
			}
			ln.Close()
		}
		if free {
			return uint16(start)
		}
	}
	t.Fatal("no free port range")
	return 0
}
