//go:build !js && !wasip1

package bridge

// A bridge in a process of its own, for the load tests: its memory and
// CPU time are then the bridge's alone, not shared with the clients and
// destinations of the test. The process is the test binary itself,
// running TestBridgeProcess.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/wasmnet/wasmnet/internal/load"
)

// processConfig is what a bridge process is started with, beside the
// defaults: loopback allowed, and no per-address session limit, since
// every client of a test comes from 127.0.0.1.
type processConfig struct {
	StreamBuffer int
}

const processEnv = "WASMNET_BRIDGE_PROCESS"

// TestBridgeProcess is not a test of its own: started by
// startBridgeProcess, it serves a bridge and its Stats (at /stats) until
// its standard input closes.
func TestBridgeProcess(t *testing.T) {
	spec := os.Getenv(processEnv)
	if spec == "" {
		t.Skip("the bridge process of the load tests; they start it")
	}
	var pc processConfig
	if err := json.Unmarshal([]byte(spec), &pc); err != nil {
		t.Fatal(err)
	}
	h := NewHandler(Config{
		Policy:           Policy{Allow: []Rule{mustRule(t, "127.0.0.1/32")}},
		MaxSessions:      -1,
		MaxSessionsPerIP: -1,
		StreamBuffer:     pc.StreamBuffer,
		Logger:           slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	h.socketGuard = loopbackOnly
	mux := http.NewServeMux()
	mux.Handle("/wisp/", h)
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(h.Stats())
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	fmt.Printf("bridge-addr %s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin) // until the test is done with it
	srv.Close()
	h.Close()
}

// bridgeProcess is a running bridge process.
type bridgeProcess struct {
	cmd   *exec.Cmd
	addr  string
	url   string
	stdin io.Closer
}

// startTestProcess runs this test binary again, as a process of its own
// that runs only the test named, with env added to its environment; its
// stderr goes to t's log. The caller waits for it.
func startTestProcess(t *testing.T, test, env string) (cmd *exec.Cmd, stdin io.WriteCloser, stdout io.ReadCloser) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = testLog{t}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err = cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stdin, stdout
}

func startBridgeProcess(t *testing.T, pc processConfig) *bridgeProcess {
	t.Helper()
	spec, _ := json.Marshal(pc)
	cmd, stdin, stdout := startTestProcess(t, "TestBridgeProcess", processEnv+"="+string(spec))
	p := &bridgeProcess{cmd: cmd, stdin: stdin}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "bridge-addr "); ok {
			p.addr = addr
			break
		}
	}
	if p.addr == "" {
		t.Fatalf("the bridge process did not start: %v", sc.Err())
	}
	go io.Copy(io.Discard, stdout) // its PASS line
	p.url = "ws://" + p.addr + "/wisp/"
	return p
}

func (p *bridgeProcess) proc(t *testing.T) load.Proc {
	t.Helper()
	pr, err := load.ReadProc(p.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

func (p *bridgeProcess) stats(t *testing.T) Stats {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}
