//go:build !js && !wasip1

package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wasmnet/wasmnet/internal/daemon"
)

// sshd is Debian's OpenSSH server, started by a test.
type sshd struct {
	addr     string // 127.0.0.1:port
	hostKey  string // its host key, an authorized_keys line
	user     string // a user made for the test
	password string // the user's password
	key      string // a private key the user is authorized with, PEM
}

// startSSHD runs sshd in the foreground on a free loopback port with a
// configuration, host key and authorized key of its own, and makes a user
// with a password for the test, removed again at the end. sshd and useradd
// need root, as in CI.
func startSSHD(t *testing.T) *sshd {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the ssh test runs sshd and adds a user, which needs root: run it as root, as CI does")
	}
	bin := daemon.Require(t, "openssh-server", "/usr/sbin/sshd")
	keygen := daemon.Require(t, "openssh-client", "ssh-keygen")
	useradd := daemon.Require(t, "passwd", "useradd")
	dir := t.TempDir()
	must(t, os.Chmod(filepath.Dir(dir), 0o755))
	must(t, os.Chmod(dir, 0o755))
	// sshd's privilege separation directory; Debian's init script makes it.
	must(t, os.MkdirAll("/run/sshd", 0o755))

	daemon.Run(t, keygen, "-q", "-t", "ed25519", "-N", "", "-C", "wasmnet test host", "-f", dir+"/host_ed25519")
	hostKey, err := os.ReadFile(dir + "/host_ed25519.pub")
	must(t, err)

	// The user's key, made here with x/crypto/ssh.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	block, err := ssh.MarshalPrivateKey(priv, "wasmnet test user")
	must(t, err)
	sshPub, err := ssh.NewPublicKey(pub)
	must(t, err)
	must(t, os.WriteFile(dir+"/authorized_keys", ssh.MarshalAuthorizedKey(sshPub), 0o644))

	b := make([]byte, 4)
	rand.Read(b)
	s := &sshd{
		addr:     fmt.Sprintf("127.0.0.1:%d", daemon.FreePort(t)),
		hostKey:  strings.TrimSpace(string(hostKey)),
		user:     "wasmnet" + hex.EncodeToString(b),
		password: "pw-" + hex.EncodeToString(b) + "-tab",
		key:      string(pem.EncodeToMemory(block)),
	}
	home := filepath.Join(dir, "home")
	daemon.Run(t, useradd, "--home-dir", home, "--create-home", "--shell", "/bin/sh", "--comment", "wasmnet ssh example test", s.user)
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", s.user).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v\n%s", s.user, err, out)
		}
	})
	chpasswd := exec.Command("chpasswd")
	chpasswd.Stdin = strings.NewReader(s.user + ":" + s.password + "\n")
	if out, err := chpasswd.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v\n%s", err, out)
	}

	config := fmt.Sprintf(`ListenAddress %s
HostKey %s/host_ed25519
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
StrictModes no
AllowUsers %s
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
`, s.addr, dir, dir, dir, s.user)
	must(t, os.WriteFile(dir+"/sshd_config", []byte(config), 0o644))
	daemon.Run(t, bin, "-t", "-f", dir+"/sshd_config")
	p := daemon.Start(t, bin, "-D", "-e", "-f", dir+"/sshd_config")
	daemon.WaitTCP(t, s.addr, 30*time.Second, p)
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
