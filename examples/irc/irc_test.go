//go:build !js && !wasip1

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/examples/irc/irc"
	"github.com/wasmnet/wasmnet/internal/daemon"
	"github.com/wasmnet/wasmnet/internal/exampletest"
)

// The tests run this program, built for wasip1 and for js, under wazero
// and Node.js through a real bridge, against Debian's ngircd on loopback.
// A native client of the same package sits in #wasmnet: it must hear what
// the program says there and answer, and the program must print the
// answer.

// runners run the program built for wasip1 under wazero, and built for js
// under Node.js.
var runners = []struct {
	name string
	run  func(t testing.TB, dir, bridgeURL string, env map[string]string, args ...string) string
}{
	{"wazero", exampletest.RunWazero},
	{"node", exampletest.RunNode},
}

func TestNgircd(t *testing.T) {
	addr := startNgircd(t)
	b := exampletest.StartBridge(t, addr)
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			nick := "wasm_" + r.name
			say := "hello from " + r.name
			answered := answerer(t, addr, "native_"+r.name, nick, say)
			out := r.run(t, "examples/irc", b.URL, nil,
				"-server", addr, "-nick", nick, "-channel", "#wasmnet", "-say", say)
			t.Logf("program output:\n%s", out)
			checkTalk(t, out, <-answered, nick, say, "native_"+r.name)
		})
	}
}

// checkTalk checks the program's output and what the native client heard.
func checkTalk(t *testing.T, out string, heard error, nick, say, peer string) {
	t.Helper()
	if heard != nil {
		t.Fatalf("native client: %v", heard)
	}
	for _, line := range []string{
		"registered as " + nick + "\n",
		"joined #wasmnet\n",
		"<" + nick + "> " + say + "\n",
		"<" + peer + "> " + reply(nick, say) + "\n",
		"left; done\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("the program's output lacks %q", line)
		}
	}
}

func reply(nick, said string) string { return nick + ": you said " + strconv.Quote(said) }

// answerer connects a native client of package irc to the server and
// joins #wasmnet before it returns. In the background it waits for nick
// to say want in the channel, answers, and reports on the channel.
func answerer(t *testing.T, addr, me, nick, want string) <-chan error {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return answererOn(t, conn, me, nick, want)
}

// answererOn is answerer on a connection of the caller's.
func answererOn(t *testing.T, conn net.Conn, me, nick, want string) <-chan error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	c := irc.NewClient(conn)
	if err := c.Register(ctx, irc.Identity{Nick: me}); err != nil {
		t.Fatal(err)
	}
	if err := c.Join(ctx, "#wasmnet"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		defer cancel()
		done <- func() error {
			for {
				m, err := c.Next(ctx)
				if err != nil {
					return fmt.Errorf("waiting for %s: %w", nick, err)
				}
				if m.Command == "PRIVMSG" && m.Nick() == nick && m.Param(0) == "#wasmnet" {
					if m.Trailing() != want {
						return fmt.Errorf("%s said %q, want %q", nick, m.Trailing(), want)
					}
					if err := c.Privmsg(ctx, "#wasmnet", reply(nick, m.Trailing())); err != nil {
						return err
					}
					return c.Quit(ctx, "bye")
				}
			}
		}()
	}()
	t.Cleanup(func() { c.Close() })
	return done
}

// startNgircd runs Debian's ngircd on a free loopback port, configured in
// a temporary directory, and returns its address.
func startNgircd(t *testing.T) string {
	t.Helper()
	bin := daemon.Require(t, "ngircd", "ngircd")
	dir := t.TempDir()
	port := daemon.FreePort(t)
	conf := filepath.Join(dir, "ngircd.conf")
	// No DNS or ident lookups, no PAM, no limit on connections from one
	// address (every client here comes from 127.0.0.1), no MOTD file.
	// ngircd never runs as root: it becomes nobody, and then cannot write
	// its PID file here, which it logs and ignores.
	err := os.WriteFile(conf, []byte(fmt.Sprintf(`[Global]
	Name = irc.wasmnet.test
	Info = wasmnet test server
	AdminInfo1 = wasmnet tests
	AdminInfo2 = loopback only
	AdminEMail = nobody@wasmnet.test
	Listen = 127.0.0.1
	Ports = %d
	PidFile = %s
	MotdPhrase = "wasmnet test server"
[Limits]
	MaxConnectionsIP = 0
	MaxNickLength = 16
[Options]
	DNS = no
	Ident = no
	PAM = no
`, port, filepath.Join(dir, "ngircd.pid"))), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	// -n: stay in the foreground and log to the console.
	p := daemon.Start(t, bin, "-n", "-f", conf)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	daemon.WaitTCP(t, addr, 30*time.Second, p)
	return addr
}
