//go:build !js && !wasip1

package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wasmnet/wasmnet/examples/irc/irc"
	"github.com/wasmnet/wasmnet/internal/browser"
	"github.com/wasmnet/wasmnet/internal/exampletest"
	"github.com/wasmnet/wasmnet/wasm/wasmnet"
)

// The server's tests run the program with -listen :0, built for wasip1
// under wazero, built for js under Node.js and in a page in headless
// Chromium, each behind a real bridge that lets it listen. Two native
// clients of package irc, on plain TCP to the bridge's public port, talk
// through it; each must hear what the other did, and the server must log
// it.

func TestServeUnderWazero(t *testing.T) {
	b := exampletest.StartListeningBridge(t)
	out, stop := exampletest.StartWazero(t, "examples/irc", b.URL, nil, "-listen", ":0")
	o := watchServer(out)
	chat(t, o.address(t))
	stop()
	checkLog(t, o.all())
}

func TestServeUnderNode(t *testing.T) {
	b := exampletest.StartListeningBridge(t)
	out, stop := exampletest.StartNode(t, "examples/irc", b.URL, nil, "-listen", ":0")
	o := watchServer(out)
	chat(t, o.address(t))
	stop()
	checkLog(t, o.all())
}

// TestServePageInChromium serves IRC from a browser tab: a click on
// Serve, and the page shows the address and the server's log.
func TestServePageInChromium(t *testing.T) {
	page := exampletest.StartListeningBridge(t).PageURL(t, "examples/irc")
	ctx := browser.New(t, 3*time.Minute)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(page+"?listen=:0"),
		chromedp.WaitVisible(chromedp.CSS("#serve:not([disabled])")),
		chromedp.Click(chromedp.CSS("#serve")),
	); err != nil {
		t.Fatal(err)
	}
	out := browser.WaitText(t, ctx, "#out", "serving irc://", "\n[")
	var addr string
	for range 1200 {
		var err error
		if addr, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#addr"))); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(addr, "127.0.0.1:") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("the page shows the address %q; it says:\n%s", addr, out)
	}
	chat(t, addr)
	checkLog(t, browser.WaitText(t, ctx, "#out", "alice quit"))
}

// TestServeEndpoint has tabs talk to each other without a public port:
// the server, under wazero, listens on a named endpoint of the bridge;
// the program as the client, under Node.js, and a native client of the
// bridge's own reach it by that name.
func TestServeEndpoint(t *testing.T) {
	b := exampletest.StartListeningBridge(t)
	const addr = "chat.wasmnet.internal:6667"
	out, _ := exampletest.StartWazero(t, "examples/irc", b.URL, nil, "-listen", addr)
	if got := watchServer(out).address(t); got != addr {
		t.Fatalf("serving at %q, want %q", got, addr)
	}
	d := &wasmnet.Dialer{Bridge: b.URL}
	defer d.Close()
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	nick, say := "wasm_client", "hello through an endpoint"
	answered := answererOn(t, conn, "native_ep", nick, say)
	prog := exampletest.RunNode(t, "examples/irc", b.URL, nil,
		"-server", addr, "-nick", nick, "-channel", "#wasmnet", "-say", say)
	t.Logf("the client's output:\n%s", prog)
	checkTalk(t, prog, <-answered, nick, say, "native_ep")
}

// chat has two native clients talk through the server at addr, over
// plain TCP: both register and join #wasmnet, talk there both ways and
// privately, and leave. Each must hear exactly what the other did, in
// order.
func chat(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	alice := nativeClient(t, ctx, addr, "alice")
	bob := nativeClient(t, ctx, addr, "bob")
	for _, c := range []*irc.Client{alice, bob} {
		if err := c.Join(ctx, "#wasmnet"); err != nil {
			t.Fatalf("%s joining: %v", c.Nick(), err)
		}
	}
	hears(t, ctx, alice, "bob JOIN #wasmnet")

	privmsg(t, ctx, alice, "#wasmnet", "hello from alice")
	hears(t, ctx, bob, "alice PRIVMSG #wasmnet hello from alice")
	privmsg(t, ctx, bob, "#wasmnet", "hello from bob")
	hears(t, ctx, alice, "bob PRIVMSG #wasmnet hello from bob")
	privmsg(t, ctx, bob, "alice", "just between us")
	hears(t, ctx, alice, "bob PRIVMSG alice just between us")
	privmsg(t, ctx, alice, "bob", "likewise")
	hears(t, ctx, bob, "alice PRIVMSG bob likewise")

	if err := bob.Quit(ctx, "bye"); err != nil {
		t.Fatal(err)
	}
	hears(t, ctx, alice, "bob QUIT Quit: bye")
	if err := alice.Quit(ctx, "bye"); err != nil {
		t.Fatal(err)
	}
}

// checkLog checks that the server logged what chat did.
func checkLog(t *testing.T, log string) {
	t.Helper()
	for _, line := range []string{
		"alice registered (alice!~alice@127.0.0.1)",
		"bob registered",
		"alice joined #wasmnet",
		"bob joined #wasmnet",
		"<alice:#wasmnet> hello from alice",
		"<bob:#wasmnet> hello from bob",
		"bob wrote to alice",
		"bob quit (Quit: bye)",
		"alice quit (Quit: bye)",
	} {
		if !strings.Contains(log, line) {
			t.Errorf("the server's log lacks %q", line)
		}
	}
	if strings.Contains(log, "just between us") {
		t.Error("the server logged a private message")
	}
	if t.Failed() {
		t.Logf("the server's output:\n%s", log)
	}
}

// nativeClient connects a Client to addr with net.Dial, on the host, and
// registers it.
func nativeClient(t *testing.T, ctx context.Context, addr, nick string) *irc.Client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := irc.NewClient(conn)
	if err := c.Register(ctx, irc.Identity{Nick: nick}); err != nil {
		t.Fatalf("registering %s: %v", nick, err)
	}
	return c
}

func privmsg(t *testing.T, ctx context.Context, c *irc.Client, target, text string) {
	t.Helper()
	if err := c.Privmsg(ctx, target, text); err != nil {
		t.Fatal(err)
	}
}

// hears checks the next message c gets from another user, as "nick
// COMMAND params"; what the server says itself is skipped.
func hears(t *testing.T, ctx context.Context, c *irc.Client, want string) {
	t.Helper()
	for {
		m, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("%s waiting to hear %q: %v", c.Nick(), want, err)
		}
		if !strings.Contains(m.Source, "!") {
			continue
		}
		if got := m.Nick() + " " + m.Command + " " + strings.Join(m.Params, " "); got != want {
			t.Fatalf("%s heard %q, want %q", c.Nick(), got, want)
		}
		return
	}
}

// serverOutput is what the server program prints, collected as it comes.
type serverOutput struct {
	mu    sync.Mutex
	b     strings.Builder
	addr  chan string
	ended chan struct{}
}

func watchServer(r io.Reader) *serverOutput {
	o := &serverOutput{addr: make(chan string, 1), ended: make(chan struct{})}
	go func() {
		defer close(o.ended)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			o.mu.Lock()
			o.b.WriteString(sc.Text() + "\n")
			o.mu.Unlock()
			if a, ok := strings.CutPrefix(sc.Text(), "serving irc://"); ok {
				o.addr <- strings.TrimSuffix(a, "/")
			}
		}
		io.Copy(io.Discard, r)
	}()
	return o
}

// address waits until the program says where it serves.
func (o *serverOutput) address(t *testing.T) string {
	t.Helper()
	select {
	case a := <-o.addr:
		return a
	case <-o.ended:
	case <-time.After(3 * time.Minute): // a guard against hanging
	}
	t.Fatalf("the server never said where it serves:\n%s", o.String())
	return ""
}

// all waits until the program's output ends, and returns all of it.
func (o *serverOutput) all() string {
	<-o.ended
	return o.String()
}

func (o *serverOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
