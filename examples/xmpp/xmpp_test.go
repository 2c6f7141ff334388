//go:build !js && !wasip1

package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/examples/xmpp/xmpp"
	"github.com/wasmnet/wasmnet/internal/daemon"
	"github.com/wasmnet/wasmnet/internal/exampletest"
	"github.com/wasmnet/wasmnet/internal/services"
)

// The tests run this program, built for wasip1 and for js, under wazero
// and Node.js through a real bridge, against Debian's prosody on loopback,
// as alice. A native client of the same package is bob: it must get
// alice's message and answer, and the program must print the answer.

const (
	domain        = "wasmnet.test"
	alicePassword = "alice's correct horse"
	bobPassword   = "bob's battery staple"
)

// runners run the program built for wasip1 under wazero, and built for js
// under Node.js.
var runners = []struct {
	name string
	run  func(t testing.TB, dir, bridgeURL string, env map[string]string, args ...string) string
}{
	{"wazero", exampletest.RunWazero},
	{"node", exampletest.RunNode},
}

func TestProsody(t *testing.T) {
	p := startProsody(t)
	b := exampletest.StartBridge(t, p.addr)
	env := map[string]string{"XMPP_PASSWORD": alicePassword, "XMPP_CA": string(p.ca.PEM)}
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			msg := "hello from " + r.name + " <&> ✓"
			heard := answerer(t, p, "bob@"+domain+"/"+r.name)
			out := r.run(t, "examples/xmpp", b.URL, env,
				"-jid", "alice@"+domain+"/"+r.name, "-server", p.addr, "-to", "bob@"+domain, "-message", msg)
			t.Logf("program output:\n%s", out)
			checkChat(t, out, <-heard, r.name, msg)
		})
	}

	t.Run("wrong password", func(t *testing.T) {
		out, err := exampletest.Wazero(t, "examples/xmpp", b.URL, map[string]string{"XMPP_PASSWORD": "wrong", "XMPP_CA": string(p.ca.PEM)},
			"-jid", "alice@"+domain, "-server", p.addr, "-to", "bob@"+domain)
		if err == nil || !strings.Contains(out, "xmpp: SASL SCRAM-SHA-1: not-authorized") || strings.Contains(out, "sent to") {
			t.Errorf("want SASL refused with not-authorized; got %v:\n%s", err, out)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		other, err := services.NewCA()
		if err != nil {
			t.Fatal(err)
		}
		out, err := exampletest.Wazero(t, "examples/xmpp", b.URL, map[string]string{"XMPP_PASSWORD": alicePassword, "XMPP_CA": string(other.PEM)},
			"-jid", "alice@"+domain, "-server", p.addr, "-to", "bob@"+domain)
		if err == nil || !strings.Contains(out, "certificate signed by unknown authority") || strings.Contains(out, "authenticated") {
			t.Errorf("want STARTTLS refused for an unknown CA; got %v:\n%s", err, out)
		}
	})
}

// checkChat checks the program's output and what bob got.
func checkChat(t *testing.T, out string, heard error, resource, msg string) {
	t.Helper()
	if heard != nil {
		t.Fatalf("bob: %v", heard)
	}
	for _, line := range []string{
		"STARTTLS: TLS 1.3, certificate of " + domain + " verified in this program\n",
		"authenticated with SCRAM-SHA-1, bound as alice@" + domain + "/" + resource + "\n",
		"sent to bob@" + domain + ": " + msg + "\n",
		"message from bob@" + domain + "/" + resource + ": " + reply(msg) + "\n",
		"stream closed; done\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("the program's output lacks %q", line)
		}
	}
}

func reply(msg string) string { return "bob got: " + msg }

// answerer logs bob in natively, over plain TCP, with the same package,
// and announces him, so that he is available when it returns. In the
// background he waits for a message from alice, checks it says want,
// answers, and reports on the channel.
func answerer(t *testing.T, p *prosody, jid string) <-chan error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := xmpp.NewClient(ctx, conn, xmpp.Config{JID: jid, Password: bobPassword, TLS: &tls.Config{RootCAs: p.ca.Pool}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := c.SendPresence(ctx); err != nil {
		t.Fatal(err)
	}
	// The server reflects bob's presence to bob once it has made him
	// available (RFC 6121, section 4.2.2).
	for {
		st, err := c.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pr, ok := st.(*xmpp.Presence); ok && pr.From == c.JID().String() {
			break
		}
	}
	done := make(chan error, 1)
	go func() {
		defer cancel()
		done <- func() error {
			for {
				m, err := c.NextMessage(ctx)
				if err != nil {
					return fmt.Errorf("waiting for alice: %w", err)
				}
				from, _ := xmpp.ParseJID(m.From)
				if from.Bare().String() != "alice@"+domain || m.Body == "" {
					continue
				}
				if err := c.Send(ctx, &xmpp.Message{To: m.From, Type: "chat", Body: reply(m.Body)}); err != nil {
					return err
				}
				return c.Close(ctx)
			}
		}()
	}()
	return done
}

// prosody is a running prosody.
type prosody struct {
	addr string
	ca   *services.CA
}

// startProsody runs Debian's prosody on a free loopback port, configured
// in a temporary directory for the domain wasmnet.test, with a
// certificate from a test CA, STARTTLS required, and the accounts alice
// and bob made with prosodyctl. s2s and every HTTP module are off.
func startProsody(t *testing.T) *prosody {
	t.Helper()
	bin := daemon.Require(t, "prosody", "prosody")
	ctl := daemon.Require(t, "prosody", "prosodyctl")
	ca, err := services.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssuePEM(domain)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	port := daemon.FreePort(t)
	conf := filepath.Join(dir, "prosody.cfg.lua")
	// run_as_root: CI runs as root, and prosody would otherwise refuse to.
	err = os.WriteFile(conf, []byte(fmt.Sprintf(`run_as_root = true
pidfile = %[1]q
data_path = %[2]q
certificates = %[3]q
plugin_paths = {}
interfaces = { "127.0.0.1" }
c2s_ports = { %[4]d }
c2s_direct_tls_ports = {}
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping" }
modules_disabled = { "s2s", "offline", "c2s_limits" }
log = { { levels = { min = "info" }, to = "console" } }
authentication = "internal_hashed"
storage = "internal"
c2s_require_encryption = true
allow_registration = false
VirtualHost %[5]q
  ssl = { certificate = %[6]q, key = %[7]q }
`, filepath.Join(dir, "prosody.pid"), filepath.Join(dir, "data"), dir, port, domain,
		filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	daemon.Run(t, ctl, "--config", conf, "register", "alice", domain, alicePassword)
	daemon.Run(t, ctl, "--config", conf, "register", "bob", domain, bobPassword)
	// -F: stay in the foreground, logging to the console.
	proc := daemon.Start(t, bin, "--config", conf, "-F")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	daemon.WaitTCP(t, addr, 30*time.Second, proc)
	return &prosody{addr: addr, ca: ca}
}
