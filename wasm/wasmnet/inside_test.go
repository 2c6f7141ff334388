//go:build !js && !wasip1

package wasmnet_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/internal/exampletest"
)

// The tests below run this package's own tests again inside WebAssembly,
// against a bridge and services started here: under wazero through the
// host package (GOOS=wasip1), and under Node.js with the browser's
// WebSocket API (GOOS=js).

// insideTests are the tests that must pass inside wasm, none skipped.
var insideTests = []string{"TestConnConformance", "TestSMTPStartTLS", "TestDNSOverTCP", "TestDNSOverUDP", "TestEndpointConformance", "TestResolveMXAndSend"}

func TestInsideWazero(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a wasm test binary")
	}
	e := testEnv(t)
	// Through the wasmhost command, which has no race detector in it:
	// wazero's compiler under it takes minutes.
	out, err := exampletest.RunWasmhost(t, buildGuestTest(t, "wasip1"), e.Bridge, e.vars(),
		"-test.v", "-test.run", "^("+strings.Join(insideTests, "|")+")$")
	checkGuest(t, out, err)
}

func TestInsideNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a wasm test binary")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is needed to run GOOS=js tests: install Node.js 20 or later")
	}
	e := testEnv(t)
	bin := buildGuestTest(t, "js")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	execJS := exampletest.WasmExec(t, "wasm_exec_node.js")
	cmd := exec.CommandContext(ctx, node, "--stack-size=8192", execJS, bin,
		"-test.v", "-test.run", "^("+strings.Join(insideTests, "|")+")$")
	cmd.Env = append(os.Environ(), "NODE_OPTIONS=--experimental-websocket")
	for k, v := range e.vars() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	checkGuest(t, string(out), err)
}

// TestTwoGuests runs two programs in two wazero guests, each with its own
// session, which hold a conversation through a named endpoint on the
// bridge, as two tabs would.
func TestTwoGuests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a wasm test binary")
	}
	e := testEnv(t)
	wasm := buildGuestTest(t, "wasip1")
	name := "peer-" + randomHex(4) + ".wasmnet.internal:9"
	var wg sync.WaitGroup
	for _, role := range []string{"client", "server"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := e.vars()
			env["WASMNET_TEST_PEER_ROLE"] = role
			env["WASMNET_TEST_PEER"] = name
			out, err := exampletest.RunWasmhost(t, wasm, e.Bridge, env, "-test.v", "-test.run", "^TestPeer$")
			if err != nil || !strings.Contains(out, "--- PASS: TestPeer ") {
				t.Errorf("the %s guest: %v\n%s", role, err, out)
			}
		}()
	}
	wg.Wait()
}

// vars passes the environment to a test binary inside wasm.
func (e env) vars() map[string]string {
	m := map[string]string{}
	for _, v := range envVars {
		m[v.name] = *v.field(&e)
	}
	return m
}

var (
	guestMu    sync.Mutex
	guestBuilt = map[string]string{}
)

// buildGuestTest compiles this package's tests for GOOS=goos, once per
// test process.
func buildGuestTest(t *testing.T, goos string) string {
	t.Helper()
	guestMu.Lock()
	defer guestMu.Unlock()
	if bin, ok := guestBuilt[goos]; ok {
		return bin
	}
	dir, err := os.MkdirTemp("", "wasmnet-guest-")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "wasmnet."+goos+".test")
	cmd := exec.Command("go", "test", "-c", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the %s test binary: %v\n%s", goos, err, out)
	}
	guestBuilt[goos] = bin
	return bin
}

// checkGuest requires that every inside test ran and passed.
func checkGuest(t *testing.T, out string, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("guest failed: %v", err)
	}
	for _, name := range insideTests {
		if !regexp.MustCompile(`(?m)^--- PASS: ` + name + ` `).MatchString(out) {
			t.Errorf("%s did not pass inside wasm", name)
		}
	}
	if strings.Contains(out, "--- SKIP") || strings.Contains(out, "--- FAIL") {
		t.Errorf("a test was skipped or failed inside wasm")
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("guest output:\n%s", out)
	}
}
