//go:build !js && !wasip1

package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/wasmnet/wasmnet/internal/exampletest"
	"github.com/wasmnet/wasmnet/wasm/host"
)

// TestOpenSSH builds this program for wasip1 and js, and runs a command
// with it under wazero and Node.js through a real bridge, against Debian's
// sshd on loopback: with the password, with the key, and with a wrong
// pinned host key, which must be refused before any login.
func TestOpenSSH(t *testing.T) {
	s := startSSHD(t)
	b := exampletest.StartBridge(t, s.addr)
	args := func(cmd string) []string {
		return []string{"-server", s.addr, "-user", s.user, "-cmd", cmd}
	}

	for _, r := range []struct {
		name string
		run  func(t testing.TB, dir, bridgeURL string, env map[string]string, args ...string) string
	}{
		{"wazero", exampletest.RunWazero},
		{"node", exampletest.RunNode},
	} {
		for _, auth := range []struct {
			name string
			env  map[string]string
		}{
			{"password", map[string]string{"SSH_PASSWORD": s.password}},
			{"key", map[string]string{"SSH_KEY": s.key}},
		} {
			t.Run(r.name+"/"+auth.name, func(t *testing.T) {
				marker := randomHex()
				env := map[string]string{"SSH_HOSTKEY": s.hostKey}
				for k, v := range auth.env {
					env[k] = v
				}
				out := r.run(t, "examples/ssh", b.URL, env, args("echo hello-"+marker+"; id -un; echo $SSH_CONNECTION")...)
				t.Logf("program output:\n%s", out)
				for _, want := range []string{"\nhello-" + marker + "\n", "\n" + s.user + "\n", "\n127.0.0.1 "} {
					if !strings.Contains("\n"+out, want) {
						t.Errorf("output lacks %q", strings.TrimSpace(want))
					}
				}
			})
		}
	}

	t.Run("pty", func(t *testing.T) {
		out := exampletest.RunWazero(t, "examples/ssh", b.URL, map[string]string{"SSH_HOSTKEY": s.hostKey, "SSH_KEY": s.key},
			append(args("stty size; tty"), "-pty", "-cols", "123", "-rows", "45")...)
		if !strings.Contains(out, "45 123") || !strings.Contains(out, "/dev/pts/") {
			t.Errorf("want a 123x45 terminal; got:\n%s", out)
		}
	})

	t.Run("exit status", func(t *testing.T) {
		out, err := exampletest.Wazero(t, "examples/ssh", b.URL, map[string]string{"SSH_HOSTKEY": s.hostKey, "SSH_KEY": s.key}, args("echo bye; exit 7")...)
		var exit *host.ExitError
		if !asExit(err, &exit) || exit.Code != 7 || !strings.Contains(out, "bye") {
			t.Errorf("want exit status 7; got %v:\n%s", err, out)
		}
	})

	t.Run("wrong host key", func(t *testing.T) {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		other, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		for _, pinned := range []string{string(ssh.MarshalAuthorizedKey(other)), ssh.FingerprintSHA256(other), ""} {
			out, err := exampletest.Wazero(t, "examples/ssh", b.URL, map[string]string{"SSH_HOSTKEY": pinned, "SSH_PASSWORD": s.password}, args("echo should-not-run")...)
			if err == nil || strings.Contains(out, "should-not-run") || strings.Contains(out, "logged in") ||
				!strings.Contains(out, "ssh: handshake failed") || !strings.Contains(out, "SHA256:") {
				t.Errorf("pinned %q: want the login refused for the host key; got %v:\n%s", pinned, err, out)
			}
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		out, err := exampletest.Wazero(t, "examples/ssh", b.URL, map[string]string{"SSH_HOSTKEY": s.hostKey, "SSH_PASSWORD": "wrong"}, args("echo should-not-run")...)
		if err == nil || strings.Contains(out, "should-not-run") || !strings.Contains(out, "unable to authenticate") {
			t.Errorf("want the login refused; got %v:\n%s", err, out)
		}
	})
}

func asExit(err error, target **host.ExitError) bool {
	e, ok := err.(*host.ExitError)
	*target = e
	return ok
}

func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
