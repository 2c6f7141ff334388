//go:build !js && !wasip1

package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/wasmnet/wasmnet/internal/daemon"
	"github.com/wasmnet/wasmnet/internal/exampletest"
)

// The tests run this program, built for wasip1 and for js, under wazero
// and Node.js through a real bridge, against Debian's mosquitto on
// loopback with a password file. A native paho client answers on one
// topic what the program publishes on another: the program's message
// must reach it, and its answer must come back to the program.

const (
	testUser     = "tab"
	testPassword = "correct horse battery staple"
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

func TestMosquitto(t *testing.T) {
	addr := startMosquitto(t)
	b := exampletest.StartBridge(t, addr)
	env := map[string]string{"MQTT_PASSWORD": testPassword}
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			topics := newTopics()
			heard := answerer(t, addr, topics)
			msg := "hello from " + r.name + " ✓"
			out := r.run(t, "examples/mqtt", b.URL, env, topics.args(addr, msg)...)
			t.Logf("program output:\n%s", out)
			checkRoundTrip(t, out, heard, topics, msg)
		})
	}

	t.Run("wrong password", func(t *testing.T) {
		out, err := exampletest.Wazero(t, "examples/mqtt", b.URL, map[string]string{"MQTT_PASSWORD": "wrong"}, newTopics().args(addr, "x")...)
		if err == nil || !strings.Contains(out, "not Authorized") || strings.Contains(out, "subscribed") {
			t.Errorf("want CONNECT refused as not authorized; got %v:\n%q", err, out)
		}
	})
}

// topics are a run's own topics, so that runs cannot hear each other.
type topics struct{ hello, replies string }

func newTopics() topics {
	b := make([]byte, 6)
	rand.Read(b)
	base := "wasmnet/test/" + hex.EncodeToString(b)
	return topics{hello: base + "/hello", replies: base + "/replies"}
}

func (tp topics) args(addr, msg string) []string {
	return []string{"-broker", addr, "-user", testUser,
		"-subscribe", tp.replies, "-publish", tp.hello, "-message", msg, "-qos", "1"}
}

func reply(msg string) string { return "native client got: " + msg }

// checkRoundTrip checks the program's output and what the native client
// heard.
func checkRoundTrip(t *testing.T, out string, heard <-chan string, tp topics, msg string) {
	t.Helper()
	select {
	case got := <-heard:
		if got != msg {
			t.Errorf("native client got %q, want %q", got, msg)
		}
	default:
		t.Error("the native client got nothing")
	}
	for _, line := range []string{
		"subscribed to " + tp.replies + " (QoS 1)\n",
		"published to " + tp.hello + ": " + msg + "\n",
		"received on " + tp.replies + ": " + reply(msg) + "\n",
		"done\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("the program's output lacks %q", line)
		}
	}
}

// answerer connects a native paho client, over plain TCP, that answers on
// tp.replies whatever comes on tp.hello, and reports it on the channel.
// It is subscribed when answerer returns.
func answerer(t *testing.T, addr string, tp topics) <-chan string {
	t.Helper()
	heard := make(chan string, 16)
	c := mqtt.NewClient(mqtt.NewClientOptions().
		AddBroker("tcp://" + addr).
		SetUsername(testUser).
		SetPassword(testPassword).
		SetConnectTimeout(10 * time.Second).
		SetAutoReconnect(false))
	waitToken(t, "connect", c.Connect())
	t.Cleanup(func() { c.Disconnect(250) })
	waitToken(t, "subscribe", c.Subscribe(tp.hello, 1, func(c mqtt.Client, m mqtt.Message) {
		heard <- string(m.Payload())
		// Publish from a goroutine: waiting for its token inside a
		// handler would block paho's delivery.
		go c.Publish(tp.replies, 1, false, reply(string(m.Payload())))
	}))
	return heard
}

func waitToken(t *testing.T, what string, tok mqtt.Token) {
	t.Helper()
	if !tok.WaitTimeout(30 * time.Second) {
		t.Fatalf("native client: %s timed out", what)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("native client: %s: %v", what, err)
	}
}

// startMosquitto runs Debian's mosquitto on a free loopback port,
// configured in a temporary directory: no anonymous clients, one user in a
// password file made with mosquitto_passwd, nothing persisted. It keeps
// the user it starts as ("user root"), as it reads the password file only
// after it would have dropped root, from a directory only we can enter.
// It returns the broker's address.
func startMosquitto(t *testing.T) string {
	t.Helper()
	bin := daemon.Require(t, "mosquitto", "mosquitto")
	passwd := daemon.Require(t, "mosquitto", "mosquitto_passwd")
	dir := t.TempDir()
	port := daemon.FreePort(t)
	pwfile := filepath.Join(dir, "passwd")
	daemon.Run(t, passwd, "-c", "-b", pwfile, testUser, testPassword)
	conf := filepath.Join(dir, "mosquitto.conf")
	err := os.WriteFile(conf, []byte(fmt.Sprintf(`user root
listener %d 127.0.0.1
allow_anonymous false
password_file %s
persistence false
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
`, port, pwfile)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p := daemon.Start(t, bin, "-c", conf)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	daemon.WaitTCP(t, addr, 30*time.Second, p)
	return addr
}
