//go:build !js && !wasip1

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/wasmnet/wasmnet/internal/exampletest"
	"github.com/wasmnet/wasmnet/internal/services"
)

// The tests build this program for wasip1 and js, run it under wazero and
// Node.js through a real bridge, and check what the server stored, byte for
// byte: once against emersion/go-smtp in this process, once against
// Debian's postfix, delivering to a maildir.

const (
	serverName   = "mail.wasmnet.test"
	testUser     = "tab"
	testPassword = "correct horse battery staple"
)

// testMail returns the arguments of a run and the message it must deliver.
func testMail(server string) (args []string, marker, want string) {
	b := make([]byte, 8)
	rand.Read(b)
	marker = hex.EncodeToString(b)
	args = []string{
		"-server", server,
		"-servername", serverName,
		"-user", testUser,
		"-from", "tab@wasmnet.test",
		"-to", "sink@wasmnet.test",
		"-subject", "wasmnet " + marker,
		"-date", "Mon, 02 Jan 2006 15:04:05 +0000",
		"-message-id", "<" + marker + "@wasmnet.test>",
		"-body", "Hello from inside WebAssembly.\n" +
			".A line that starts with a dot survives dot-stuffing,\n" +
			".\n" +
			"and so does a line that is only a dot. Grüße, ünïcödé.\n",
	}
	want = "From: tab@wasmnet.test\r\n" +
		"To: sink@wasmnet.test\r\n" +
		"Subject: wasmnet " + marker + "\r\n" +
		"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n" +
		"Message-ID: <" + marker + "@wasmnet.test>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Hello from inside WebAssembly.\r\n" +
		".A line that starts with a dot survives dot-stuffing,\r\n" +
		".\r\n" +
		"and so does a line that is only a dot. Grüße, ünïcödé.\r\n"
	return args, marker, want
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

// TestGoSMTP sends through the bridge to emersion/go-smtp in this process,
// which requires STARTTLS and AUTH PLAIN.
func TestGoSMTP(t *testing.T) {
	ca, err := services.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig, err := ca.ServerTLS(serverName)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := services.SMTP("127.0.0.1:0", tlsConfig, true)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.RequireAuth(testUser, testPassword)
	b := exampletest.StartBridge(t, sink.Addr().String())
	env := map[string]string{"SMTP_PASSWORD": testPassword, "SMTP_CA": string(ca.PEM)}

	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			args, marker, want := testMail(sink.Addr().String())
			out := r.run(t, "examples/smtp", b.URL, env, args...)
			t.Logf("program output:\n%s", out)
			for _, step := range []string{"STARTTLS: TLS 1.3", "AUTH PLAIN: authenticated as tab", "done"} {
				if !strings.Contains(out, step) {
					t.Errorf("output lacks %q", step)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			mail, err := sink.Find(ctx, marker)
			if err != nil {
				t.Fatal(err)
			}
			if string(mail.Data) != want {
				t.Errorf("go-smtp received\n%q\nwant\n%q", mail.Data, want)
			}
			if mail.TLS != "TLS 1.3" || mail.Auth != testUser || mail.From != "tab@wasmnet.test" || strings.Join(mail.To, ",") != "sink@wasmnet.test" {
				t.Errorf("envelope: tls=%q auth=%q from=%q to=%q", mail.TLS, mail.Auth, mail.From, mail.To)
			}
		})
	}

	t.Run("wrong password", func(t *testing.T) {
		args, _, _ := testMail(sink.Addr().String())
		out, err := exampletest.Wazero(t, "examples/smtp", b.URL, map[string]string{"SMTP_PASSWORD": "wrong", "SMTP_CA": string(ca.PEM)}, args...)
		if err == nil || !strings.Contains(out, "AUTH PLAIN: 535") {
			t.Errorf("want AUTH refused with 535; got %v:\n%s", err, out)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		other, err := services.NewCA()
		if err != nil {
			t.Fatal(err)
		}
		args, _, _ := testMail(sink.Addr().String())
		out, err := exampletest.Wazero(t, "examples/smtp", b.URL, map[string]string{"SMTP_PASSWORD": testPassword, "SMTP_CA": string(other.PEM)}, args...)
		if err == nil || !strings.Contains(out, "certificate signed by unknown authority") || strings.Contains(out, "AUTH PLAIN: authenticated") {
			t.Errorf("want STARTTLS refused for an unknown CA; got %v:\n%s", err, out)
		}
	})
}
