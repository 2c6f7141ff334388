// Package daemon runs real servers from Debian's packages for the tests
// that need an honest peer: postfix, prosody, unbound, openssh-server,
// mosquitto, ngircd and the like. Each test starts its own instance on
// loopback, with its configuration in a temporary directory, and stops it
// when the test ends.
//
// A missing package is installed with apt-get when the test runs as root
// (as in CI); otherwise the test fails with the command to run. It never
// skips.
package daemon

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var installMu sync.Mutex

// Require makes sure the Debian package pkg is installed and returns the
// path of its program bin (a name looked up in PATH and the sbin
// directories, or an absolute path).
func Require(t testing.TB, pkg, bin string) string {
	t.Helper()
	installMu.Lock()
	defer installMu.Unlock()
	if path, ok := find(bin); ok {
		return path
	}
	if os.Geteuid() != 0 {
		t.Fatalf("%s is missing: install it with: sudo apt-get install -y %s", bin, pkg)
	}
	for _, args := range [][]string{
		{"apt-get", "install", "-y", "-qq", "--no-install-recommends", pkg},
		{"sh", "-c", "apt-get update -qq && apt-get install -y -qq --no-install-recommends " + pkg},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if path, ok := find(bin); ok {
			return path
		}
		if err != nil && args[0] == "sh" {
			t.Fatalf("installing %s: %v\n%s", pkg, err, out)
		}
	}
	t.Fatalf("installed %s but found no %s", pkg, bin)
	return ""
}

func find(bin string) (string, bool) {
	if strings.HasPrefix(bin, "/") {
		_, err := os.Stat(bin)
		return bin, err == nil
	}
	if path, err := exec.LookPath(bin); err == nil {
		return path, true
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/lib/postfix/sbin"} {
		if _, err := os.Stat(dir + "/" + bin); err == nil {
			return dir + "/" + bin, true
		}
	}
	return "", false
}

// Process is a daemon started by a test.
type Process struct {
	Cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{} // closed when the daemon has exited
}

// Exited reports whether the daemon has exited already.
func (p *Process) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// Output is what the daemon printed so far.
func (p *Process) Output() string { return p.out.String() }

// Start runs a daemon in the foreground and stops it when the test ends.
// Its output is kept, and logged if the test fails.
func Start(t testing.TB, name string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(name, args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &Process{Cmd: cmd, out: out, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	return p
}

// FreePort returns a port on 127.0.0.1 that was free a moment ago, for TCP
// and UDP.
func FreePort(t testing.TB) int {
	t.Helper()
	low, _ := FreePorts(t, 1)
	return low
}

// FreePorts returns n consecutive ports on 127.0.0.1 that were free a
// moment ago, for TCP and UDP. They lie below the kernel's ephemeral
// range, so that between the look and the server's bind no connection
// (from any of the test processes go test runs at once) is given one.
func FreePorts(t testing.TB, n int) (low, high int) {
	t.Helper()
	top := ephemeralLow() - n
	for range 100 {
		start := 10000 + rand.IntN(max(top-10000, 1))
		if portsFree(start, n) {
			return start, start + n - 1
		}
	}
	t.Fatalf("no %d free ports between 10000 and %d", n, top+n)
	return 0, 0
}

func portsFree(start, n int) bool {
	for p := start; p < start+n; p++ {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return false
		}
		ln.Close()
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		pc.Close()
	}
	return true
}

// ephemeralLow is where the kernel's ephemeral ports begin.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if f := strings.Fields(string(b)); err == nil && len(f) == 2 {
		if low, err := strconv.Atoi(f[0]); err == nil && low > 10000 {
			return low
		}
	}
	return 32768
}

// WaitTCP waits until something accepts connections on addr, as a hang
// detector bounded by timeout.
func WaitTCP(t testing.TB, addr string, timeout time.Duration, p *Process) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if p != nil && p.Exited() {
			t.Fatalf("daemon exited before listening on %s:\n%s", addr, p.Output())
		}
		select {
		case <-ctx.Done():
			msg := ""
			if p != nil {
				msg = p.Output()
			}
			t.Fatalf("nothing listens on %s after %v:\n%s", addr, timeout, msg)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Run runs a command to completion and fails the test if it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
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
