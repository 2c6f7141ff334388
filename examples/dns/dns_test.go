//go:build !js && !wasip1

package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wasmnet/wasmnet/internal/daemon"
	"github.com/wasmnet/wasmnet/internal/exampletest"
)

// The tests build this program for wasip1 and js, run it under wazero and
// Node.js through a real bridge, and ask Debian's unbound, serving a local
// zone on loopback, configured here.

// zone is what unbound serves, as local-data lines; big.wasmnet.test has
// too many addresses for a 512-byte UDP answer.
var zone = func() []string {
	z := []string{
		`wasmnet.test. 60 IN A 192.0.2.1`,
		`wasmnet.test. 60 IN AAAA 2001:db8::1`,
		`wasmnet.test. 60 IN MX 10 mail.wasmnet.test.`,
		`wasmnet.test. 60 IN TXT "hello from unbound" "over wasmnet"`,
		`mail.wasmnet.test. 60 IN A 127.0.0.1`,
	}
	for i := 1; i <= 40; i++ {
		z = append(z, fmt.Sprintf("big.wasmnet.test. 60 IN A 198.51.100.%d", i))
	}
	return z
}()

// want is what the program prints for the questions of args, given as
// lines that must appear in order.
var (
	args = []string{"wasmnet.test", "A", "AAAA", "MX", "TXT", "big.wasmnet.test", "nowhere.wasmnet.test"}
	want = []string{
		";; wasmnet.test. A: NOERROR, 1 answers",
		"wasmnet.test.\t60\tIN\tA\t192.0.2.1",
		";; wasmnet.test. AAAA: NOERROR, 1 answers",
		"wasmnet.test.\t60\tIN\tAAAA\t2001:db8::1",
		";; wasmnet.test. MX: NOERROR, 1 answers",
		"wasmnet.test.\t60\tIN\tMX\t10 mail.wasmnet.test.",
		";; wasmnet.test. TXT: NOERROR, 1 answers",
		"wasmnet.test.\t60\tIN\tTXT\t\"hello from unbound\" \"over wasmnet\"",
		";; big.wasmnet.test. A: NOERROR, 40 answers",
		";; nowhere.wasmnet.test. A: NXDOMAIN, 0 answers",
	}
)

func TestUnbound(t *testing.T) {

	server := startUnbound(t)
	b := exampletest.StartBridge(t, server)

	// The premise: over UDP, unbound truncates the answer for
	// big.wasmnet.test, which TCP carries whole.
	c := &dns.Client{Net: "udp", Timeout: 10 * time.Second}
	resp, _, err := c.Exchange(new(dns.Msg).SetQuestion("big.wasmnet.test.", dns.TypeA), server)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Truncated || len(resp.Answer) == 40 {
		t.Fatalf("unbound did not truncate the UDP answer: %v", resp)
	}

	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			out := r.run(t, "examples/dns", b.URL, nil, append([]string{"-server", server}, args...)...)
			t.Logf("program output:\n%s", out)
			checkOutput(t, out, wantOver("tcp"))
			for i := 1; i <= 40; i++ {
				if line := fmt.Sprintf("big.wasmnet.test.\t60\tIN\tA\t198.51.100.%d\n", i); !strings.Contains(out, line) {
					t.Errorf("output lacks %q", line)
				}
			}
		})
	}
}

// TestUnboundUDP asks over UDP with -net udp: the big answer comes back
// truncated, and the program asks again over TCP.
func TestUnboundUDP(t *testing.T) {
	server := startUnbound(t)
	b := exampletest.StartBridge(t, server)
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			out := r.run(t, "examples/dns", b.URL, nil, append([]string{"-server", server, "-net", "udp"}, args...)...)
			t.Logf("program output:\n%s", out)
			checkOutput(t, out, wantOver("udp"))
		})
	}
}

// wantOver is want for -net network: each answer says which network
// carried it, and over UDP the big answer is truncated and asked again
// over TCP.
func wantOver(network string) []string {
	var lines []string
	for _, line := range want {
		switch {
		case strings.HasPrefix(line, ";; big.") && network == "udp":
			lines = append(lines, ";; big.wasmnet.test. A: truncated over udp", line+", over tcp")
		case strings.HasPrefix(line, ";; "):
			lines = append(lines, line+", over "+network)
		default:
			lines = append(lines, line)
		}
	}
	return lines
}

// runners run the program built for wasip1 under wazero, and built for js
// under Node.js.
var runners = []struct {
	name string
	run  func(t testing.TB, dir, bridgeURL string, env map[string]string, args ...string) string
}{
	{"wazero", exampletest.RunWazero},
	{"node", exampletest.RunNode},
}

// checkOutput requires the lines of want (or their starts) in out, in that
// order.
func checkOutput(t *testing.T, out string, want []string) {
	t.Helper()
	rest := out
	for _, line := range want {
		i := strings.Index(rest, line)
		if i < 0 {
			t.Errorf("output lacks, in order, %q", line)
			continue
		}
		rest = rest[i+len(line):]
	}
}

// startUnbound runs Debian's unbound in the foreground, on a loopback port
// free for both UDP and TCP, authoritative for zone, and returns its
// address.
func startUnbound(t *testing.T) string {
	t.Helper()
	bin := daemon.Require(t, "unbound", "unbound")
	dir := t.TempDir()
	addr := freeUDPAndTCP(t)
	host, port, _ := net.SplitHostPort(addr)
	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
  interface: %s@%s
  do-ip6: no
  do-daemonize: no
  username: ""
  chroot: ""
  directory: %q
  pidfile: %q
  use-syslog: no
  logfile: ""
  verbosity: 1
  module-config: "iterator"
  access-control: 127.0.0.0/8 allow
  local-zone: "wasmnet.test." static
`, host, port, dir, filepath.Join(dir, "unbound.pid"))
	for _, rr := range zone {
		fmt.Fprintf(&conf, "  local-data: '%s'\n", rr)
	}
	conf.WriteString("remote-control:\n  control-enable: no\n")
	file := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(file, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	daemon.Run(t, bin+"-checkconf", file)
	p := daemon.Start(t, bin, "-d", "-c", file)
	daemon.WaitTCP(t, addr, 30*time.Second, p)
	return addr
}

// freeUDPAndTCP returns a loopback address whose port was free for both.
func freeUDPAndTCP(t *testing.T) string {
	t.Helper()
	for range 20 {
		addr := fmt.Sprintf("127.0.0.1:%d", daemon.FreePort(t))
		if pc, err := net.ListenPacket("udp", addr); err == nil {
			pc.Close()
			return addr
		}
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return ""
}
