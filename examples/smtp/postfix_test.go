//go:build !js && !wasip1

package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/internal/daemon"
	"github.com/wasmnet/wasmnet/internal/exampletest"
	"github.com/wasmnet/wasmnet/internal/services"
)

// TestPostfix sends through the bridge to Debian's postfix on loopback,
// configured here: STARTTLS required with a certificate from a test CA,
// AUTH PLAIN through Cyrus SASL against a sasldb made here, and delivery
// to a maildir by postfix's virtual(8) agent. The stored file must be the
// message byte for byte, after the trace headers postfix prepends and with
// the line ends a maildir keeps (LF).
func TestPostfix(t *testing.T) {
	pf := startPostfix(t)
	b := exampletest.StartBridge(t, pf.addr)
	env := map[string]string{"SMTP_PASSWORD": testPassword, "SMTP_CA": string(pf.caPEM)}

	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			args, marker, want := testMail(pf.addr)
			out := r.run(t, "examples/smtp", b.URL, env, args...)
			t.Logf("program output:\n%s", out)
			got := waitFile(t, pf.maildir, marker, 30*time.Second)
			trace, body, ok := strings.Cut(got, "\nFrom: ")
			if !ok {
				t.Fatalf("no From header in the stored message:\n%s", got)
			}
			if want := strings.ReplaceAll(want, "\r\n", "\n"); "From: "+body != want {
				t.Errorf("postfix stored\n%q\nwant\n%q", "From: "+body, want)
			}
			// Return-Path, X-Original-To, Delivered-To, then one Received
			// header saying the mail came over TLS (S) with AUTH (A).
			if !traceRE.MatchString(trace + "\n") {
				t.Errorf("unexpected trace headers:\n%s", trace)
			}
		})
	}

	t.Run("wrong password", func(t *testing.T) {
		args, _, _ := testMail(pf.addr)
		out, err := exampletest.Wazero(t, "examples/smtp", b.URL, map[string]string{"SMTP_PASSWORD": "wrong", "SMTP_CA": string(pf.caPEM)}, args...)
		if err == nil || !strings.Contains(out, "AUTH PLAIN: 535") {
			t.Errorf("want AUTH refused with 535; got %v:\n%s", err, out)
		}
	})
}

var traceRE = regexp.MustCompile(`^Return-Path: <tab@wasmnet\.test>\n` +
	`X-Original-To: sink@wasmnet\.test\n` +
	`Delivered-To: sink@wasmnet\.test\n` +
	`Received: from [^\n]+\n\tby mail\.wasmnet\.test \(Postfix\) with (ESMTPSA|UTF8SMTPSA) id [0-9A-F]+\n\tfor <sink@wasmnet\.test>; [^\n]+\n$`)

type postfix struct {
	addr    string // 127.0.0.1:port
	maildir string // where sink@wasmnet.test's new mail lands
	caPEM   []byte
}

// startPostfix runs a postfix instance of its own, in a temporary
// directory, listening on a free loopback port. It runs as root, as CI
// does; postfix drops to its own user for everything but the master.
func startPostfix(t *testing.T) *postfix {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the postfix test runs postfix's master, which must start as root: run it as root, as CI does")
	}
	bin := daemon.Require(t, "postfix", "postfix")
	saslpasswd := daemon.Require(t, "sasl2-bin", "saslpasswd2")
	lib := "/usr/lib/" + multiarch() + "/sasl2/"
	daemon.Require(t, "libsasl2-modules", lib+"libplain.so")
	daemon.Require(t, "libsasl2-modules-db", lib+"libsasldb.so")

	dir := t.TempDir()
	// postfix's own user must reach the queue, data and SASL files.
	must(t, os.Chmod(filepath.Dir(dir), 0o755))
	must(t, os.Chmod(dir, 0o755))
	etc, queue, data, mail := filepath.Join(dir, "etc"), filepath.Join(dir, "queue"), filepath.Join(dir, "data"), filepath.Join(dir, "mail")
	for _, d := range []string{etc, etc + "/sasl", queue, data, mail} {
		must(t, os.MkdirAll(d, 0o755))
	}
	pfUser := lookup(t, "postfix")
	nobody := lookup(t, "nobody")
	must(t, os.Chown(data, pfUser.uid, pfUser.gid))
	must(t, os.Chown(mail, nobody.uid, nobody.gid))

	ca, err := services.NewCA()
	must(t, err)
	certPEM, keyPEM, err := ca.IssuePEM(serverName)
	must(t, err)
	must(t, os.WriteFile(etc+"/cert.pem", certPEM, 0o644))
	must(t, os.WriteFile(etc+"/key.pem", keyPEM, 0o600))

	port := daemon.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	mainCF := strings.NewReplacer("$DIR", dir, "$NOBODY_UID", fmt.Sprint(nobody.uid), "$NOBODY_GID", fmt.Sprint(nobody.gid)).Replace(`
compatibility_level = 3.6
queue_directory = $DIR/queue
data_directory = $DIR/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = /dev/stdout
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.wasmnet.test
mydomain = wasmnet.test
myorigin = wasmnet.test
mydestination =
mynetworks = 127.0.0.1/32
local_header_rewrite_clients =
smtpd_tls_cert_file = $DIR/etc/cert.pem
smtpd_tls_key_file = $DIR/etc/key.pem
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = wasmnet.test
cyrus_sasl_config_path = $DIR/etc/sasl
smtpd_relay_restrictions = permit_sasl_authenticated, reject
virtual_mailbox_domains = wasmnet.test
virtual_mailbox_base = $DIR/mail
virtual_mailbox_maps = texthash:$DIR/etc/vmailbox
virtual_minimum_uid = 1
virtual_uid_maps = static:$NOBODY_UID
virtual_gid_maps = static:$NOBODY_GID
`)
	// Only what this test needs, and nothing chrooted.
	masterCF := addr + ` inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`
	// Debian's postfix reads the SASL file from $config_directory/sasl.
	smtpdConf := "pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN\nsasldb_path: " + etc + "/sasl/sasldb2\n"
	must(t, os.WriteFile(etc+"/main.cf", []byte(mainCF), 0o644))
	must(t, os.WriteFile(etc+"/master.cf", []byte(masterCF), 0o644))
	must(t, os.WriteFile(etc+"/vmailbox", []byte("sink@wasmnet.test sink/\n"), 0o644))
	must(t, os.WriteFile(etc+"/sasl/smtpd.conf", []byte(smtpdConf), 0o644))

	cmd := exec.Command(saslpasswd, "-p", "-c", "-f", etc+"/sasl/sasldb2", "-u", "wasmnet.test", testUser)
	cmd.Stdin = strings.NewReader(testPassword)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("saslpasswd2: %v\n%s", err, out)
	}
	must(t, os.Chown(etc+"/sasl/sasldb2", pfUser.uid, pfUser.gid))

	p := daemon.Start(t, bin, "-c", etc, "start-fg")
	t.Cleanup(func() { exec.Command(bin, "-c", etc, "stop").Run() })
	daemon.WaitTCP(t, addr, 30*time.Second, p)
	return &postfix{addr: addr, maildir: filepath.Join(mail, "sink", "new"), caPEM: ca.PEM}
}

type ids struct{ uid, gid int }

func lookup(t *testing.T, name string) ids {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	var id ids
	fmt.Sscan(u.Uid, &id.uid)
	fmt.Sscan(u.Gid, &id.gid)
	return id
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitFile waits for a file to appear in dir and returns its content.
func waitFile(t *testing.T, dir, marker string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err == nil && strings.Contains(string(b), marker) {
				return string(b)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no message with %s in %s after %v", marker, dir, timeout)
	return ""
}

// multiarch is Debian's name for the library directory of this machine.
func multiarch() string {
	switch runtime.GOARCH {
	case "arm64":
		return "aarch64-linux-gnu"
	default:
		return "x86_64-linux-gnu"
	}
}
